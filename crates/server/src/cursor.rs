//! Page cursors for the lists (`GET /api/v1/cases`, `GET /api/v1/alerts`): opaque to clients,
//! they carry the sort key of the last row served and a digest of the query's filters. The
//! next page is the rows sorting after that key, so a row appended meanwhile shows up at its
//! place without the others repeating or going missing; a cursor from another query (other
//! filters, another list, another token's scope) is refused with a 400 naming `cursor`.

use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// How many bytes of the filters' SHA-256 a cursor carries.
const DIGEST_BYTES: usize = 8;

/// The digest of a query's filters, as a cursor carries it.
fn digest(filters: &str) -> String {
    hex::encode(&Sha256::digest(filters.as_bytes())[..DIGEST_BYTES])
}

/// A cursor after the row whose sort key is `key`, for the query whose filters are `filters`.
pub(crate) fn encode(key: &str, filters: &str) -> String {
    hex::encode(format!("{}\n{key}", digest(filters)))
}

/// The sort key a cursor carries, if it was made for the query whose filters are `filters`.
pub(crate) fn decode(cursor: &str, filters: &str) -> Result<String, ApiError> {
    let bad = |why: &str| ApiError::invalid(format!("cursor: {why}")).field("cursor");
    let bytes = hex::decode(cursor).map_err(|_| bad("not a cursor this server gave"))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not a cursor this server gave"))?;
    let (made_for, key) = text
        .split_once('\n')
        .ok_or_else(|| bad("not a cursor this server gave"))?;
    if made_for != digest(filters) {
        return Err(bad(
            "this cursor belongs to another query (other filters or list): \
             repeat the query that gave it, or start again without a cursor",
        ));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn a_cursor_round_trips_for_its_query_only() {
        let c = encode("2026-03-04\tcase-1", "cases org=a");
        assert_eq!(decode(&c, "cases org=a").unwrap(), "2026-03-04\tcase-1");
        assert!(decode(&c, "cases org=b").is_err());
        assert!(decode("zz", "cases org=a").is_err());
    }
}
