//! Instants and business dates: milliseconds since the epoch for ordering, and the +08:00
//! calendar date that every limit counts in.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat};
use jiancha_events::time::{CHINA, CHINA_OFFSET_SECONDS};
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

/// The business date of the last day asked for: a log in time order asks for the same day
/// many times over, and the conversion through chrono costs more than the comparison.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LastDate {
    /// The day number since the epoch in +08:00, and its date.
    last: Option<(Millis, NaiveDate)>,
}

impl LastDate {
    /// The business date (+08:00) of `ts`, whose instant is `at`.
    pub(crate) fn of(&mut self, ts: &Timestamp, at: Millis) -> NaiveDate {
        // Instants with the same day number share their +08:00 date.
        let day = at.saturating_add(CHINA_MS).div_euclid(DAY_MS);
        match self.last {
            Some((d, date)) if d == day => date,
            _ => {
                let date = china_date(ts);
                self.last = Some((day, date));
                date
            }
        }
    }
}

/// The business date (+08:00) of an instant.
pub fn date_of(at: Millis) -> NaiveDate {
    match DateTime::from_timestamp_millis(at) {
        Some(utc) => utc.with_timezone(&CHINA).date_naive(),
        None => NaiveDate::MIN,
    }
}

/// Milliseconds in a day.
const DAY_MS: Millis = 86_400_000;

/// The +08:00 offset in milliseconds.
const CHINA_MS: Millis = CHINA_OFFSET_SECONDS as Millis * 1_000;

/// The day number (counted from 0001-01-01 as day 1) of 1970-01-01.
const UNIX_EPOCH_DAY_FROM_CE: Millis = 719_163;

/// 00:00 (+08:00) of a date: the instant a day begins, and the previous day ends (24:00).
/// Plain arithmetic on the day number: the offset is fixed, so every day is 24 hours long.
/// The one date whose 00:00 (+08:00) precedes the earliest instant chrono can represent
/// gives `Millis::MAX`, as the conversion through chrono does.
pub fn start_of(date: NaiveDate) -> Millis {
    if date == NaiveDate::MIN {
        return Millis::MAX;
    }
    (Millis::from(date.num_days_from_ce()) - UNIX_EPOCH_DAY_FROM_CE) * DAY_MS - CHINA_MS
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

/// Whether an event counts in an evaluation "as of" `now` (business time): it occurred by then.
/// A `HistoryImported` declaration always counts: it says how the positions it covers are to be
/// judged, whenever it was made, so a view at an instant before the import judges them alike.
pub fn occurred_by(event: &jiancha_events::StoredEvent, now: Millis) -> bool {
    matches!(event.data, jiancha_events::EventData::HistoryImported(_))
        || event.occurred_at.timestamp_millis() <= now
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 00:00 (+08:00) of a date through chrono's time-zone conversion.
    fn start_of_via_chrono(date: NaiveDate) -> Millis {
        use chrono::{NaiveTime, TimeZone};
        CHINA
            .from_local_datetime(&date.and_time(NaiveTime::MIN))
            .single()
            .map_or(Millis::MAX, |dt| dt.timestamp_millis())
    }

    #[test]
    fn start_of_agrees_with_chrono() {
        let mut dates = vec![
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::MIN.succ_opt().unwrap(),
            NaiveDate::MAX.pred_opt().unwrap(),
            NaiveDate::from_ymd_opt(1969, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-1, 1, 1).unwrap(),
        ];
        dates.extend(
            NaiveDate::from_ymd_opt(1899, 12, 25)
                .unwrap()
                .iter_days()
                .step_by(7)
                .take(12_000),
        );
        dates.extend(
            NaiveDate::from_ymd_opt(2024, 1, 1)
                .unwrap()
                .iter_days()
                .take(3_000),
        );
        for d in dates {
            assert_eq!(start_of(d), start_of_via_chrono(d), "{d}");
            assert_eq!(
                end_of(d),
                d.succ_opt().map_or(Millis::MAX, start_of_via_chrono)
            );
        }
    }

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
