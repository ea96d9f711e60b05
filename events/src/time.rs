//! Timestamps as the log keeps them: RFC 3339 with an explicit offset, normalised once.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat};

/// A business or recording instant with its offset, as the log keeps it.
pub type Timestamp = DateTime<FixedOffset>;

/// The offset of Asia/Shanghai: China keeps no daylight saving, so it is fixed at +08:00.
pub const CHINA_OFFSET_SECONDS: i32 = 8 * 3600;

/// The fixed +08:00 offset (checked at compile time).
pub const CHINA: FixedOffset = match FixedOffset::east_opt(CHINA_OFFSET_SECONDS) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// The fixed +08:00 offset.
pub fn china_offset() -> FixedOffset {
    CHINA
}

/// The canonical text of a timestamp: RFC 3339, offset kept, fractional seconds only when
/// present. Normalising is idempotent, which keeps hashes stable across export and import.
pub fn format_timestamp(ts: &Timestamp) -> String {
    ts.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text is a date and time without an offset; the caller must say which offset.
    #[error("timestamp without offset: {0:?} (write it as 2026-03-02T09:15:00+08:00)")]
    MissingOffset(String),
    /// The text is not an RFC 3339 timestamp at all.
    #[error("not an RFC 3339 timestamp: {0:?}")]
    Malformed(String),
}

/// Parses an RFC 3339 timestamp that must carry its offset.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, TimestampError> {
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Ok(ts);
    }
    let naive_forms = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"];
    if naive_forms
        .iter()
        .any(|f| NaiveDateTime::parse_from_str(text, f).is_ok())
    {
        return Err(TimestampError::MissingOffset(text.to_owned()));
    }
    Err(TimestampError::Malformed(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_required_and_named() {
        assert_eq!(
            parse_timestamp("2026-03-02T09:15:00"),
            Err(TimestampError::MissingOffset("2026-03-02T09:15:00".into()))
        );
        assert!(matches!(
            parse_timestamp("yesterday"),
            Err(TimestampError::Malformed(_))
        ));
        let ts = parse_timestamp("2026-03-02T09:15:00+08:00").unwrap();
        assert_eq!(format_timestamp(&ts), "2026-03-02T09:15:00+08:00");
        let ts = parse_timestamp("2026-03-02T01:15:00.250Z").unwrap();
        assert_eq!(format_timestamp(&ts), "2026-03-02T01:15:00.250+00:00");
        assert_eq!(china_offset().local_minus_utc(), 8 * 3600);
    }
}
