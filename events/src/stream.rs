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
}

impl StreamKind {
    /// How a user would name the streams of this kind.
    pub fn describe(self) -> &'static str {
        match self {
            StreamKind::Catalog => "the catalog stream",
            StreamKind::Calendar => "the calendar stream",
            StreamKind::Case => "a case stream (case-…)",
            StreamKind::Supervision => "the supervision stream",
        }
    }
}

/// A validated stream name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamName {
    name: String,
    kind: StreamKind,
}

/// The longest stream name, org path, actor or id accepted, in bytes.
pub const NAME_BYTES_MAX: usize = 200;

impl StreamName {
    /// Parses `catalog`, `calendar`, `supervision` or `case-<id>`, where `<id>` is letters,
    /// digits, `-`, `_` and `.`.
    pub fn parse(name: &str) -> Result<Self, String> {
        let kind = match name {
            "catalog" => StreamKind::Catalog,
            "calendar" => StreamKind::Calendar,
            "supervision" => StreamKind::Supervision,
            _ => {
                let Some(rest) = name.strip_prefix("case-") else {
                    return Err(format!(
                        "unknown stream {name:?}: use catalog, calendar, supervision or case-<id>"
                    ));
                };
                check_case_id(name, rest)?;
                StreamKind::Case
            }
        };
        Ok(StreamName {
            name: name.to_owned(),
            kind,
        })
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

fn check_case_id(name: &str, rest: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if rest.is_empty() || name.len() > NAME_BYTES_MAX || !rest.chars().all(allowed) {
        return Err(format!(
            "bad case stream {name:?}: case-<id> with letters, digits, '-', '_' or '.', at most {NAME_BYTES_MAX} bytes"
        ));
    }
    Ok(())
}

/// Checks an org path such as `jiangjin/town-07/village-12`: non-empty segments separated by
/// `/`, none of them `.` or `..`, no whitespace or control characters.
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
        assert!(StreamName::parse("cases")
            .unwrap_err()
            .contains("unknown stream"));
    }

    #[test]
    fn org_paths_are_checked_segment_wise() {
        assert!(check_org("org", "jiangjin/town-07/village-12").is_ok());
        assert!(check_org("org", "jiangjin//x").is_err());
        assert!(check_org("org", "jiangjin/../x").is_err());
        assert!(check_org("org", "").is_err());
        assert!(org_is_under("jiangjin/town-1/village-2", "jiangjin/town-1"));
        assert!(org_is_under("jiangjin/town-1", "jiangjin/town-1"));
        assert!(!org_is_under("jiangjin/town-10", "jiangjin/town-1"));
        assert!(!org_is_under("jiangjin/town-1", "jiangjin/town-10"));
    }
}
