//! Stream names and org paths: which streams exist and what may be written to each.

use std::fmt;

use crate::vocab::DataError;

/// The four kinds of stream in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamKind {
    /// `catalog`: approval item definitions.
    Catalog,
    /// `calendar`: holiday declarations and amendments.
    Calendar,
    /// `case-…`: one approval case.
    Case,
    /// `supervision`: cards, acknowledgements, correction orders, exemptions, appeals.
    Supervision,
    /// `proc-…`: one procurement or tendering project.
    Procurement,
}

impl StreamKind {
    /// How a user would name the streams of this kind.
    pub fn describe(self) -> &'static str {
        match self {
            StreamKind::Catalog => "the catalog stream",
            StreamKind::Calendar => "the calendar stream",
            StreamKind::Case => "a case stream (case-…)",
            StreamKind::Supervision => "the supervision stream",
            StreamKind::Procurement => "a procurement project stream (proc-…)",
        }
    }
}

/// The name of the catalog stream: approval item definitions.
pub const CATALOG_STREAM: &str = "catalog";

/// The name of the calendar stream: holiday declarations and amendments.
pub const CALENDAR_STREAM: &str = "calendar";

/// The name of the supervision stream: cards, correction orders, exemptions,
/// acknowledgements, appeals, closes of periods, declared historical imports.
pub const SUPERVISION_STREAM: &str = "supervision";

/// Why a stream name was refused. Each variant's text says what a valid name looks like;
/// a caller names the field it came from (`stream`, `data.case`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamNameError {
    /// Neither `catalog`, `calendar`, `supervision`, `case-<id>` nor `proc-<id>`: correct the name.
    #[error("unknown stream {0:?}: use catalog, calendar, supervision, case-<id> or proc-<id>")]
    Unknown(String),
    /// A case stream whose id has characters outside the allowed set, or is empty or too
    /// long: choose another case id.
    #[error(
        "bad case stream {0:?}: case-<id> or proc-<id> with letters, digits, '-', '_' or '.', at most {NAME_BYTES_MAX} bytes"
    )]
    BadCaseId(String),
    /// A case id that reads like a path step: choose another case id.
    #[error("bad case stream {0:?}: the id may not begin with '.' nor hold '..'")]
    PathLike(String),
}

/// The prefix of a case stream's name (`case-<id>`).
pub const CASE_STREAM_PREFIX: &str = "case-";

/// The prefix of a procurement project's stream name (`proc-<id>`).
pub const PROJECT_STREAM_PREFIX: &str = "proc-";

/// A validated stream name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamName {
    name: String,
    kind: StreamKind,
}

/// The longest stream name, org path, actor or id accepted, in bytes.
pub const NAME_BYTES_MAX: usize = 200;

impl StreamName {
    /// Parses `catalog`, `calendar`, `supervision`, `case-<id>` or `proc-<id>`, where `<id>` is ASCII
    /// letters, digits, `-`, `_` and `.`, not beginning with `.` and never holding `..` (so no
    /// case id looks like a path step).
    pub fn parse(name: &str) -> Result<Self, StreamNameError> {
        let kind = match name {
            CATALOG_STREAM => StreamKind::Catalog,
            CALENDAR_STREAM => StreamKind::Calendar,
            SUPERVISION_STREAM => StreamKind::Supervision,
            _ => {
                let (kind, rest) = match (
                    name.strip_prefix(CASE_STREAM_PREFIX),
                    name.strip_prefix(PROJECT_STREAM_PREFIX),
                ) {
                    (Some(rest), _) => (StreamKind::Case, rest),
                    (None, Some(rest)) => (StreamKind::Procurement, rest),
                    (None, None) => return Err(StreamNameError::Unknown(name.to_owned())),
                };
                check_case_id(name, rest)?;
                kind
            }
        };
        Ok(StreamName {
            name: name.to_owned(),
            kind,
        })
    }

    /// The catalog stream, [`CATALOG_STREAM`].
    pub fn catalog() -> Self {
        StreamName {
            name: CATALOG_STREAM.to_owned(),
            kind: StreamKind::Catalog,
        }
    }

    /// The calendar stream, [`CALENDAR_STREAM`].
    pub fn calendar() -> Self {
        StreamName {
            name: CALENDAR_STREAM.to_owned(),
            kind: StreamKind::Calendar,
        }
    }

    /// The supervision stream, [`SUPERVISION_STREAM`].
    pub fn supervision() -> Self {
        StreamName {
            name: SUPERVISION_STREAM.to_owned(),
            kind: StreamKind::Supervision,
        }
    }

    /// The stream's kind.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn check_case_id(name: &str, rest: &str) -> Result<(), StreamNameError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if rest.is_empty() || name.len() > NAME_BYTES_MAX || !rest.chars().all(allowed) {
        return Err(StreamNameError::BadCaseId(name.to_owned()));
    }
    // A dot-only or dotted-path id (`case-..`, `case-.x`, `case-a..b`) reads like a path step
    // wherever a case id lands in a path or a file name.
    if rest.starts_with('.') || rest.contains("..") {
        return Err(StreamNameError::PathLike(name.to_owned()));
    }
    Ok(())
}

/// Whether a character is invisible or reorders text: a format character (Unicode category Cf:
/// zero-width spaces and joiners, bidi embeddings, overrides and isolates, the byte order mark,
/// soft hyphen, interlinear annotation, tags) or another invisible filler. Such a character makes
/// two org paths look alike while comparing differently.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Checks an org path such as `jiangjin/town-07/village-12`: non-empty segments separated by
/// `/`, none of them `.` or `..`, no whitespace, control, format, bidi or zero-width
/// characters ([`is_invisible`]).
pub fn check_org(field: &str, org: &str) -> Result<(), DataError> {
    let bad = |message: String| {
        Err(DataError {
            field: field.to_owned(),
            message,
        })
    };
    if org.is_empty() {
        return bad("must not be empty".into());
    }
    if org.len() > NAME_BYTES_MAX {
        return bad(format!("longer than {NAME_BYTES_MAX} bytes"));
    }
    for segment in org.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return bad(format!("bad org path {org:?}: empty, '.' or '..' segment"));
        }
        if segment.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad(format!(
                "bad org path {org:?}: whitespace or control character"
            ));
        }
        if let Some(c) = segment.chars().find(|c| is_invisible(*c)) {
            return bad(format!(
                "bad org path {org:?}: invisible or bidi character U+{:04X}",
                u32::from(c)
            ));
        }
    }
    Ok(())
}

/// Whether `org` is `prefix` itself or lies under it, segment-wise (`town-1` is not under
/// `town-10`, nor the other way round).
pub fn org_is_under(org: &str, prefix: &str) -> bool {
    match org.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.is_empty(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_parse_by_kind() {
        assert_eq!(
            StreamName::parse("catalog").unwrap().kind(),
            StreamKind::Catalog
        );
        assert_eq!(
            StreamName::parse("case-2026-000123").unwrap().kind(),
            StreamKind::Case
        );
        assert!(StreamName::parse("case-").is_err());
        assert!(StreamName::parse("case-a b").is_err());
        assert!(StreamName::parse("case-2026.03_a-1").is_ok());
        assert_eq!(
            StreamName::parse("cases").unwrap_err(),
            StreamNameError::Unknown("cases".into())
        );
        assert!(StreamName::parse("cases")
            .unwrap_err()
            .to_string()
            .contains("unknown stream"));
        assert_eq!(
            StreamName::parse("case-..").unwrap_err(),
            StreamNameError::PathLike("case-..".into())
        );
    }

    #[test]
    fn the_named_streams_are_the_ones_their_names_parse_to() {
        for (made, name, kind) in [
            (StreamName::catalog(), "catalog", StreamKind::Catalog),
            (StreamName::calendar(), "calendar", StreamKind::Calendar),
            (
                StreamName::supervision(),
                "supervision",
                StreamKind::Supervision,
            ),
        ] {
            assert_eq!(made, StreamName::parse(name).unwrap());
            assert_eq!((made.as_str(), made.kind()), (name, kind));
        }
        assert_eq!(
            [CATALOG_STREAM, CALENDAR_STREAM, SUPERVISION_STREAM],
            ["catalog", "calendar", "supervision"]
        );
    }

    #[test]
    fn org_paths_are_checked_segment_wise() {
        assert!(check_org("org", "jiangjin/town-07/village-12").is_ok());
        assert!(check_org("org", "jiangjin//x").is_err());
        assert!(check_org("org", "jiangjin/../x").is_err());
        assert!(check_org("org", "").is_err());
        assert!(check_org("org", "jiangjin/").is_err());
        assert!(check_org("org", "jiangjin/./x").is_err());
        assert!(org_is_under("jiangjin/town-1/village-2", "jiangjin/town-1"));
        assert!(org_is_under("jiangjin/town-1", "jiangjin/town-1"));
        assert!(!org_is_under("jiangjin/town-10", "jiangjin/town-1"));
        assert!(!org_is_under("jiangjin/town-1", "jiangjin/town-10"));
    }

    #[test]
    fn odd_case_ids_are_refused() {
        for name in [
            "case-..",
            "case-.",
            "case-.x",
            "case-a..b",
            "case-...",
            "case-a/b",
        ] {
            assert!(StreamName::parse(name).is_err(), "{name}");
        }
        for name in ["case-a.b", "case-a.", "case-2026-000123", "case-A_1"] {
            assert!(StreamName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn invisible_and_bidi_characters_are_refused_in_org_paths() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{061C}',
            '\u{E0041}',
        ] {
            let org = format!("jiangjin/town-0{c}7");
            let e = check_org("org", &org).unwrap_err();
            assert!(
                e.message.contains("invisible"),
                "{:04X}: {e:?}",
                u32::from(c)
            );
        }
        assert!(check_org("org", "jiangjin/\u{3000}town").is_err());
        assert!(check_org("org", "江津/town-07").is_ok());
    }
}
