//! Instants and business dates: milliseconds since the epoch for ordering, and the +08:00
//! calendar date that every limit counts in.

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, TimeZone};
use jiancha_events::time::CHINA;
use jiancha_events::Timestamp;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The instant of a timestamp.
pub fn millis(ts: &Timestamp) -> Millis {
    ts.timestamp_millis()
}

/// The business date (+08:00) of a timestamp.
pub fn china_date(ts: &Timestamp) -> NaiveDate {
    ts.with_timezone(&CHINA).date_naive()
}

/// The business date (+08:00) of an instant.
pub fn date_of(at: Millis) -> NaiveDate {
    match DateTime::from_timestamp_millis(at) {
        Some(utc) => utc.with_timezone(&CHINA).date_naive(),
        None => NaiveDate::MIN,
    }
}

/// 00:00 (+08:00) of a date: the instant a day begins, and the previous day ends (24:00).
pub fn start_of(date: NaiveDate) -> Millis {
    CHINA
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .map_or(Millis::MAX, |dt| dt.timestamp_millis())
}

/// The end (24:00, +08:00) of a date.
pub fn end_of(date: NaiveDate) -> Millis {
    date.succ_opt().map_or(Millis::MAX, start_of)
}

/// The RFC 3339 text (+08:00) of an instant.
pub fn format(at: Millis) -> String {
    match DateTime::from_timestamp_millis(at) {
        Some(utc) => utc
            .with_timezone(&CHINA)
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
        None => String::from("invalid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_end_at_midnight_in_china() {
        let d = NaiveDate::from_ymd_opt(2026, 10, 10).unwrap();
        assert_eq!(format(end_of(d)), "2026-10-11T00:00:00+08:00");
        assert_eq!(date_of(end_of(d) - 1), d);
        let ts = jiancha_events::parse_timestamp("2026-03-01T17:00:00Z").unwrap();
        assert_eq!(
            china_date(&ts),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
    }
}
