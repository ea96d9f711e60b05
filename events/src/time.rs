//! Timestamps as the log keeps them: RFC 3339 with an explicit offset, normalised once.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat};

/// A business or recording instant with its offset, as the log keeps it.
pub type Timestamp = DateTime<FixedOffset>;

/// The offset of Asia/Shanghai: China keeps no daylight saving, so it is fixed at +08:00.
pub const CHINA_OFFSET_SECONDS: i32 = 8 * 3600;

/// The fixed +08:00 offset (checked at compile time).
pub const CHINA: FixedOffset = match FixedOffset::east_opt(CHINA_OFFSET_SECONDS) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// The first business date a new event may occur on: the first day the working-day calendar
/// covers (an event before it could never be judged against a deadline).
pub const FIRST_BUSINESS_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(date) => date,
    None => panic!("1990-01-01 is a date"),
};

/// The last business date a new event may occur on: the last day the calendar covers.
pub const LAST_BUSINESS_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(date) => date,
    None => panic!("2100-12-31 is a date"),
};

/// Whether a new event's instant falls on a business date (in China) the calendar covers.
pub fn check_business_date(ts: &Timestamp) -> Result<(), String> {
    let date = ts.with_timezone(&CHINA).date_naive();
    if (FIRST_BUSINESS_DATE..=LAST_BUSINESS_DATE).contains(&date) {
        return Ok(());
    }
    Err(format!(
        "{date} in China is outside {FIRST_BUSINESS_DATE} to {LAST_BUSINESS_DATE}, the dates \
         the working-day calendar covers: no deadline could be judged on it"
    ))
}

/// How far after the clock reading a new event may say it occurred, in milliseconds: a
/// terminal's clock may run a little ahead of the server's. The server refuses an event dated
/// further ahead; `jiancha import` takes it (a simulation, a migration) and says so.
pub const AHEAD_MAX_MILLIS: i64 = 5 * 60 * 1000;

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
    /// A new event's instant that RFC 3339 allows but the log cannot keep as written: a leap
    /// second (`:60`), or a fraction beyond nanoseconds (which would be cut).
    #[error("{0:?}: {1}")]
    Unkept(String, &'static str),
}

/// Parses the instant of a new event: as [`parse_timestamp`], refusing what the log would not
/// keep as written (a leap second, a fraction of more than 9 digits). Stored instants are read
/// with [`parse_timestamp`], as they were written.
pub fn parse_new_timestamp(text: &str) -> Result<Timestamp, TimestampError> {
    let ts = parse_timestamp(text)?;
    if text.get(17..19) == Some("60") {
        return Err(TimestampError::Unkept(
            text.to_owned(),
            "a leap second (:60) is not kept; write :59.999 or the next minute",
        ));
    }
    if let Some(fraction) = text
        .get(19..)
        .and_then(|rest| rest.strip_prefix(['.', ',']))
    {
        if fraction.bytes().take_while(u8::is_ascii_digit).count() > 9 {
            return Err(TimestampError::Unkept(
                text.to_owned(),
                "a fraction of a second has at most 9 digits (nanoseconds)",
            ));
        }
    }
    Ok(ts)
}

/// Parses an RFC 3339 timestamp that must carry its offset.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, TimestampError> {
    if let Some(ts) = parse_canonical(text) {
        return Ok(ts);
    }
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

/// The canonical text [`format_timestamp`] writes (`2026-03-02T09:15:00.250+08:00`, the
/// fraction of 1 to 9 digits optional, `Z` for +00:00 too), read by position: every event read
/// back from a log carries two, and chrono's general RFC 3339 parser is a measurable part of
/// decoding one. `None` for any other text, which the general parser then reads; where this
/// answers, the answer is the general parser's (a property test compares the two).
fn parse_canonical(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let digits = |from: usize, to: usize| -> Option<u32> {
        let part = b.get(from..to)?;
        part.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let year = i32::try_from(digits(0, 4)?).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, digits(5, 7)?, digits(8, 10)?)?;
    let (hour, minute, second) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    if second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0;
    if at(i, b'.') {
        let start = i + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if end == start || end - start > 9 {
            return None;
        }
        let width = u32::try_from(end - start).ok()?;
        nanos = digits(start, end)? * 10u32.pow(9 - width);
        i = end;
    }
    let offset = match b.get(i..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(i + 1, i + 3)?, digits(i + 4, i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i32::try_from(h * 3600 + m * 60).ok()?;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let time = chrono::NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset)?;
    chrono::TimeZone::from_local_datetime(&offset, &NaiveDateTime::new(date, time)).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_instant_the_log_would_not_keep_as_written_is_refused() {
        // RFC 3339 and chrono take both; the first would be kept as another text, the second
        // cut to nanoseconds.
        assert!(parse_timestamp("2026-12-31T23:59:60+08:00").is_ok());
        assert!(parse_timestamp("2026-03-02T09:15:00.1234567891+08:00").is_ok());
        for text in [
            "2026-12-31T23:59:60+08:00",
            "2026-03-02T09:15:00.1234567891+08:00",
        ] {
            let e = parse_new_timestamp(text).unwrap_err();
            assert!(matches!(e, TimestampError::Unkept(..)), "{text}: {e}");
        }
        assert!(parse_new_timestamp("2026-03-02T09:15:00.123456789+08:00").is_ok());
        assert!(parse_new_timestamp("2026-03-02T09:15:59Z").is_ok());
    }

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

    /// The general parser's answer, instant and offset, or `None`.
    fn general(text: &str) -> Option<(Timestamp, i32)> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| (t, t.offset().local_minus_utc()))
    }

    fn canonical(text: &str) -> Option<(Timestamp, i32)> {
        parse_canonical(text).map(|t| (t, t.offset().local_minus_utc()))
    }

    #[test]
    fn canonical_texts_read_as_the_general_parser_reads_them() {
        for text in [
            "2026-03-02T09:15:00+08:00",
            "2026-03-02T09:15:00.250+08:00",
            "2026-03-02T09:15:00.000000001-05:30",
            "2026-03-02T09:15:00.123456789Z",
            "0000-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59.9+23:59",
            "2024-02-29T12:00:00-00:00",
        ] {
            assert!(canonical(text).is_some(), "{text}");
            assert_eq!(canonical(text), general(text), "{text}");
        }
        // Left to the general parser (which reads some, refuses others).
        for text in [
            "2026-03-02t09:15:00+08:00",
            "2026-03-02 09:15:00+08:00",
            "2026-03-02T09:15:60+08:00",
            "2026-03-02T09:15:00.1234567891+08:00",
            "2026-03-02T09:15:00.+08:00",
            "2026-03-02T09:15:00z",
            "2026-03-02T09:15:00+0800",
            "2026-03-02T09:15:00+24:00",
            "2026-02-30T09:15:00+08:00",
            "2026-03-02T24:00:00+08:00",
            "+2026-03-02T09:15:00+08:00",
            "2026-03-02T09:15:00+08:00 ",
            "2026-03-02T09:15:0٣+08:00",
            "",
        ] {
            assert_eq!(canonical(text), None, "{text}");
        }
    }

    proptest::proptest! {
        /// Every instant's canonical text reads back as itself, as the general parser reads it.
        #[test]
        fn canonical_text_round_trips(
            secs in -62_135_596_800i64..253_402_300_799,
            nanos in proptest::prop_oneof![0u32..1, 0u32..1_000_000_000],
            offset_minutes in -1439i32..1440,
        ) {
            let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let Some(utc) = DateTime::from_timestamp(secs, nanos) else { return Ok(()) };
            let ts = utc.with_timezone(&offset);
            let text = format_timestamp(&ts);
            proptest::prop_assert_eq!(canonical(&text), Some((ts, offset_minutes * 60)));
            proptest::prop_assert_eq!(canonical(&text), general(&text));
        }

        /// On any text, the fast reading is the general parser's or none.
        #[test]
        fn any_text_reads_as_the_general_parser_or_not_at_all(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,11})?([Zz]|[+-][0-9]{2}:?[0-9]{2})?",
        ) {
            if let Some(read) = canonical(&text) {
                proptest::prop_assert_eq!(Some(read), general(&text));
            }
        }
    }
}
