//! Districts side by side in one PostgreSQL database: a district is a schema, named by a plain
//! lowercase identifier, and [`district_url`] turns a database URL and a district's name into
//! the URL of that district's log (`options=-c search_path=NAME`, which `postgres.rs` creates
//! and migrates on first use). A SQLite district is its own file and has no name here.

use std::fmt::Write as _;

/// The longest district name: PostgreSQL's identifier limit (`NAMEDATALEN` - 1 bytes).
pub const DISTRICT_NAME_BYTES_MAX: usize = 63;

/// Why a district cannot be selected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistrictError {
    /// The name is not a plain lowercase identifier: the user gives another.
    #[error(
        "district {0:?} is not a plain lowercase identifier: use 1 to 63 of a-z, 0-9 and _, \
         not starting with a digit"
    )]
    NotAnIdentifier(String),
    /// The name is one PostgreSQL keeps for its own schemas (`pg_…`): the user gives another.
    #[error("district {0:?} begins with pg_, which PostgreSQL keeps for its own schemas")]
    Reserved(String),
    /// The URL is not PostgreSQL's: a SQLite district is its own file (the user gives its
    /// `--db` instead), and `memory:` holds one log.
    #[error(
        "a district is a schema of a PostgreSQL database (postgres://…); {0} names no \
         schemas: a SQLite district is its own file, give it with --db alone"
    )]
    NotPostgres(String),
    /// The URL already selects another schema: the user drops one of the two.
    #[error("the URL's search_path selects schema {in_url:?}, not district {name:?}: give one")]
    OtherSchema {
        /// The first schema of the URL's `search_path`.
        in_url: String,
        /// The district asked for.
        name: String,
    },
}

/// Checks a district's name: 1 to 63 bytes of `a-z`, `0-9` and `_`, not starting with a digit,
/// so that it is its own schema name unquoted and needs no escaping in a URL.
pub fn check_district_name(name: &str) -> Result<(), DistrictError> {
    let bad = || DistrictError::NotAnIdentifier(name.to_owned());
    let first = name.bytes().next().ok_or_else(bad)?;
    if name.len() > DISTRICT_NAME_BYTES_MAX
        || first.is_ascii_digit()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(bad());
    }
    if name.starts_with("pg_") {
        return Err(DistrictError::Reserved(name.to_owned()));
    }
    Ok(())
}

/// The URL of district `name`'s log in the database `url` names: `url` with
/// `options=-c search_path=NAME` added (to its `options` when it has some). A URL that already
/// selects the schema `name` is returned unchanged; one that selects another is refused.
pub fn district_url(url: &str, name: &str) -> Result<String, DistrictError> {
    check_district_name(name)?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        let what = if url == "memory:" {
            "memory:".to_owned()
        } else {
            format!("{url:?}")
        };
        return Err(DistrictError::NotPostgres(what));
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<String> = Vec::new();
    let mut found = false;
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let Some(value) = param.strip_prefix("options=") else {
            params.push(param.to_owned());
            continue;
        };
        let options = percent_decode(value);
        if let Some(in_url) = search_path_of(&options) {
            if in_url != name {
                return Err(DistrictError::OtherSchema {
                    in_url,
                    name: name.to_owned(),
                });
            }
            return Ok(url.to_owned());
        }
        params.push(format!(
            "options={}",
            percent_encode(&format!("{options} -c search_path={name}"))
        ));
        found = true;
    }
    if !found {
        params.push(format!(
            "options={}",
            percent_encode(&format!("-c search_path={name}"))
        ));
    }
    Ok(format!("{base}?{}", params.join("&")))
}

/// The database a district URL is in, without the district: `url` with every `search_path`
/// its `options` set taken out (an `options` left empty is dropped). What a roll-up over the
/// database's districts opens them from, whichever district the server itself serves.
pub fn database_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let mut params: Vec<String> = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let Some(value) = param.strip_prefix("options=") else {
            params.push(param.to_owned());
            continue;
        };
        let options = percent_decode(value);
        let mut kept: Vec<&str> = Vec::new();
        let mut tokens = options.split_whitespace().peekable();
        while let Some(token) = tokens.next() {
            if token == "-c" && tokens.peek().is_some_and(|t| t.starts_with("search_path")) {
                tokens.next();
                continue;
            }
            if token.starts_with("-csearch_path") || token.starts_with("--search_path") {
                continue;
            }
            kept.push(token);
        }
        if !kept.is_empty() {
            params.push(format!("options={}", percent_encode(&kept.join(" "))));
        }
    }
    if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

/// The first schema of the `search_path` set in a connection's `options` (`-c search_path=…`,
/// `-csearch_path=…` or `--search_path=…`), if any.
pub(crate) fn search_path_of(options: &str) -> Option<String> {
    search_path_settings(options)
        .into_iter()
        .next()?
        .into_iter()
        .next()
}

/// The schemas each `search_path` setting in `options` names, in order (`$user` left out).
/// PostgreSQL reads setting names in any case and with `-` for `_` (`--search-path=…`): so are
/// they found here (the values as written: PostgreSQL's own reading of them is checked on
/// connecting, `postgres::selected_schema`).
fn search_path_settings(options: &str) -> Vec<Vec<String>> {
    // ASCII only: the byte offsets of the folded text are those of `options`.
    let folded = options
        .to_ascii_lowercase()
        .replace("search-path", "search_path");
    folded
        .match_indices("search_path")
        .filter_map(|(at, _)| {
            let rest = options[at + "search_path".len()..]
                .trim_start()
                .strip_prefix('=')?;
            let value: String = rest
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            Some(crate::postgres::schemas_of(&value))
        })
        .collect()
}

/// Refuses `options` that set `search_path` more than once or to more than one schema: a log
/// is one schema, and PostgreSQL would read the last setting's first existing schema, not the
/// one the messages name (nor the one created for the log).
pub(crate) fn check_search_path(options: &str) -> Result<(), String> {
    let settings = search_path_settings(options);
    match settings.as_slice() {
        [] | [_] if settings.iter().all(|s| s.len() <= 1) => Ok(()),
        [one] => Err(format!(
            "the search_path names {} schemas ({}): name the one schema that holds the log \
             (in the URL's options, or PGOPTIONS)",
            one.len(),
            one.join(", ")
        )),
        _ => Err(format!(
            "search_path is set {} times (the URL's options and PGOPTIONS together): set it \
             once, to the one schema that holds the log",
            settings.len()
        )),
    }
}

/// Decodes `%XX` escapes (and `+` as a space, as in a query string); a malformed escape is
/// kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but unreserved characters as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "postgres://postgres@127.0.0.1:5432/test";

    #[test]
    fn a_name_postgresql_keeps_is_refused() {
        assert!(matches!(
            check_district_name("pg_audit"),
            Err(DistrictError::Reserved(_))
        ));
        assert!(check_district_name("pgx").is_ok());
    }

    #[test]
    fn the_database_url_leaves_the_district_out() {
        for (url, want) in [
            (DB, DB.to_owned()),
            (
                &format!("{DB}?options=-c%20search_path%3Djiangjin") as &str,
                DB.to_owned(),
            ),
            (
                &format!("{DB}?sslmode=disable&options=-csearch_path%3Da"),
                format!("{DB}?sslmode=disable"),
            ),
            (
                &format!("{DB}?options=-c%20statement_timeout%3D5000%20-c%20search_path%3Da"),
                format!("{DB}?options=-c%20statement_timeout%3D5000"),
            ),
        ] {
            assert_eq!(database_url(url), want, "{url}");
        }
    }

    #[test]
    fn a_district_adds_its_search_path() {
        assert_eq!(
            district_url(DB, "jiangjin").unwrap(),
            format!("{DB}?options=-c%20search_path%3Djiangjin")
        );
        assert_eq!(
            district_url(&format!("{DB}?sslmode=disable"), "d_7").unwrap(),
            format!("{DB}?sslmode=disable&options=-c%20search_path%3Dd_7")
        );
        assert_eq!(
            district_url("postgresql://h/db?options=-c%20work_mem%3D4MB", "a").unwrap(),
            "postgresql://h/db?options=-c%20work_mem%3D4MB%20-c%20search_path%3Da"
        );
    }

    #[test]
    fn a_url_naming_the_same_schema_is_kept_and_another_refused() {
        let same = format!("{DB}?options=-c%20search_path%3Da");
        assert_eq!(district_url(&same, "a").unwrap(), same);
        let spaced = format!("{DB}?options=-c+search_path%3DA,public");
        assert_eq!(district_url(&spaced, "a").unwrap(), spaced);
        assert_eq!(
            district_url(&format!("{DB}?options=--search_path%3Db"), "a"),
            Err(DistrictError::OtherSchema {
                in_url: "b".into(),
                name: "a".into()
            })
        );
    }

    #[test]
    fn names_are_plain_lowercase_identifiers() {
        for good in [
            "a",
            "jiangjin",
            "district_07",
            "_x",
            "a".repeat(63).as_str(),
        ] {
            assert_eq!(check_district_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "7a",
            "A",
            "a-b",
            "a b",
            "a;drop",
            "é",
            "a.b",
            "a".repeat(64).as_str(),
        ] {
            assert_eq!(
                district_url(DB, bad),
                Err(DistrictError::NotAnIdentifier(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn sqlite_and_memory_have_no_districts() {
        for url in ["sqlite://x.db", "x.db", "memory:"] {
            let e = district_url(url, "a").unwrap_err();
            assert!(matches!(e, DistrictError::NotPostgres(_)), "{url}");
            assert!(e.to_string().contains("its own file"), "{e}");
        }
    }

    #[test]
    fn percent_coding_round_trips() {
        let text = "-c search_path=a,\"B c\"";
        assert_eq!(percent_decode(&percent_encode(text)), text);
        assert_eq!(percent_decode("100%"), "100%");
    }
}
