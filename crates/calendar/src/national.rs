//! The national calendar's data: China's official holiday arrangements from the State Council's
//! notices, kept as text in `data/cn.txt` and parsed once, at first use.
//!
//! The text is compiled into the crate, so parsing can only fail if the file in the repository
//! is broken; the unit tests parse it, so such a file never passes CI.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The built-in arrangements, 2004–2026.
const DATA: &str = include_str!("../data/cn.txt");

/// The festival (or extraordinary occasion) a day off or a shifted workday belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// 元旦.
    NewYear,
    /// 春节.
    SpringFestival,
    /// 清明节 (statutory from 2008).
    Qingming,
    /// 劳动节.
    LabourDay,
    /// 端午节 (statutory from 2008).
    DragonBoat,
    /// 中秋节 (statutory from 2008).
    MidAutumn,
    /// 国庆节.
    NationalDay,
    /// The 2015-09-03 commemoration of the 70th anniversary of the victory of 1945.
    VictoryDay70,
    /// The State Council's 2020 extension of the Spring Festival rest (the epidemic).
    SpringFestivalExtension,
}

impl Holiday {
    /// The key used in `data/cn.txt`.
    fn from_key(key: &str) -> Option<Holiday> {
        Some(match key {
            "new_year" => Holiday::NewYear,
            "spring_festival" => Holiday::SpringFestival,
            "qingming" => Holiday::Qingming,
            "labour_day" => Holiday::LabourDay,
            "dragon_boat" => Holiday::DragonBoat,
            "mid_autumn" => Holiday::MidAutumn,
            "national_day" => Holiday::NationalDay,
            "victory_day_70" => Holiday::VictoryDay70,
            "spring_festival_extension" => Holiday::SpringFestivalExtension,
            _ => return None,
        })
    }

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Holiday::NewYear => "元旦",
            Holiday::SpringFestival => "春节",
            Holiday::Qingming => "清明节",
            Holiday::LabourDay => "劳动节",
            Holiday::DragonBoat => "端午节",
            Holiday::MidAutumn => "中秋节",
            Holiday::NationalDay => "国庆节",
            Holiday::VictoryDay70 => "抗战胜利70周年纪念日",
            Holiday::SpringFestivalExtension => "春节假期延长（疫情防控）",
        }
    }

    /// The English name.
    pub fn en(self) -> &'static str {
        match self {
            Holiday::NewYear => "New Year's Day",
            Holiday::SpringFestival => "Spring Festival",
            Holiday::Qingming => "Qingming Festival",
            Holiday::LabourDay => "Labour Day",
            Holiday::DragonBoat => "Dragon Boat Festival",
            Holiday::MidAutumn => "Mid-Autumn Festival",
            Holiday::NationalDay => "National Day",
            Holiday::VictoryDay70 => "Victory Day, 70th anniversary",
            Holiday::SpringFestivalExtension => "Spring Festival extension (epidemic)",
        }
    }
}

/// What a listed day is. Every other day is an ordinary weekday (working) or weekend (rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// 法定节假日: a statutory holiday (or a local one declared by amendment). A rest day.
    Holiday,
    /// 调休休息日: a day off that is not itself a holiday — in lieu of a worked weekend, a
    /// weekend inside a holiday block, or a closure. A rest day.
    RestDay,
    /// 调休上班日: a weekend day (or any day) that is worked.
    Workday,
}

impl DayKind {
    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            DayKind::Holiday => "法定节假日",
            DayKind::RestDay => "调休休息日",
            DayKind::Workday => "调休上班日",
        }
    }

    /// The English name.
    pub fn en(self) -> &'static str {
        match self {
            DayKind::Holiday => "statutory holiday",
            DayKind::RestDay => "rest day",
            DayKind::Workday => "shifted workday",
        }
    }

    /// Whether the day is worked.
    pub fn is_working(self) -> bool {
        self == DayKind::Workday
    }

    /// The key used in `data/cn.txt`.
    fn from_key(key: &str) -> Option<DayKind> {
        Some(match key {
            "holiday" => DayKind::Holiday,
            "rest" => DayKind::RestDay,
            "work" => DayKind::Workday,
            _ => return None,
        })
    }
}

/// A State Council notice that declares (part of) a year's arrangements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// The year whose arrangements it declares.
    pub year: i32,
    /// Its title, e.g. 国务院办公厅关于2026年部分节假日安排的通知.
    pub title: &'static str,
    /// The day it was published.
    pub published_on: NaiveDate,
}

/// One listed day of the national data, as the latest notice naming it left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NationalDay {
    pub(crate) date: NaiveDate,
    pub(crate) kind: DayKind,
    pub(crate) holiday: Holiday,
    /// Index into [`NationalData::notices`].
    pub(crate) notice: usize,
}

/// The parsed national data.
#[derive(Debug)]
pub(crate) struct NationalData {
    /// Every notice, in file order (years ascending).
    pub(crate) notices: Vec<Notice>,
    /// Every listed day, one per date, sorted by date.
    pub(crate) days: Vec<NationalDay>,
    /// The years the notices declare, ascending.
    pub(crate) declared_years: Vec<i32>,
}

/// A defect in `data/cn.txt`, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data/cn.txt line {}: {}", self.line, self.message)
    }
}

/// The built-in national data, parsed on first use.
pub(crate) fn national_data() -> &'static NationalData {
    static PARSED: OnceLock<NationalData> = OnceLock::new();
    PARSED.get_or_init(|| match parse(DATA) {
        Ok(data) => data,
        // The text is a compile-time constant that `tests::built_in_data_parses` checks, so
        // this only fires in a binary built from a broken data file without running tests.
        Err(error) => panic!("built-in calendar data is invalid: {error}"),
    })
}

/// Parses the data format described at the top of `data/cn.txt`.
pub(crate) fn parse(text: &'static str) -> Result<NationalData, DataError> {
    let mut parser = Parser::default();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        parser.line(line).map_err(|message| DataError {
            line: index + 1,
            message,
        })?;
    }
    Ok(parser.finish())
}

/// Parsing state: the current year and notice, and the days named so far.
#[derive(Default)]
struct Parser {
    year: Option<i32>,
    notices: Vec<Notice>,
    declared_years: Vec<i32>,
    /// Later notices overwrite earlier ones on the same date.
    days: BTreeMap<NaiveDate, NationalDay>,
}

impl Parser {
    fn line(&mut self, line: &'static str) -> Result<(), String> {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("year") => self.year_line(words.next(), words.next()),
            Some("notice") => {
                let rest = line.strip_prefix("notice").unwrap_or("").trim();
                self.notice_line(rest)
            }
            Some(key) => {
                let kind = words.next().ok_or("missing kind")?;
                let span = words.next().ok_or("missing date")?;
                if words.next().is_some() {
                    return Err("unexpected text after the date".into());
                }
                self.day_line(key, kind, span)
            }
            None => Ok(()),
        }
    }

    fn year_line(&mut self, year: Option<&str>, extra: Option<&str>) -> Result<(), String> {
        let year: i32 = year
            .and_then(|y| y.parse().ok())
            .ok_or("`year` needs a year number")?;
        if extra.is_some() {
            return Err("unexpected text after the year".into());
        }
        if self.declared_years.last().is_some_and(|&last| last >= year) {
            return Err(format!("year {year} is not after the year before it"));
        }
        self.declared_years.push(year);
        self.year = Some(year);
        Ok(())
    }

    fn notice_line(&mut self, rest: &'static str) -> Result<(), String> {
        let year = self.year.ok_or("`notice` before any `year`")?;
        let (date, title) = rest
            .split_once(char::is_whitespace)
            .ok_or("`notice` needs a date and a title")?;
        let published_on = parse_date(date)?;
        let title = title.trim();
        if !title.contains("通知") {
            return Err(format!("notice title {title:?} does not name a 通知"));
        }
        self.notices.push(Notice {
            year,
            title,
            published_on,
        });
        Ok(())
    }

    fn day_line(&mut self, key: &str, kind: &str, span: &str) -> Result<(), String> {
        let year = self.year.ok_or("day before any `year`")?;
        let notice = self
            .notices
            .len()
            .checked_sub(1)
            .ok_or("day before any `notice`")?;
        let holiday = Holiday::from_key(key).ok_or_else(|| format!("unknown holiday {key:?}"))?;
        let kind = DayKind::from_key(kind).ok_or_else(|| format!("unknown kind {kind:?}"))?;
        let (first, last) = parse_span(span)?;
        for date in first.iter_days().take_while(|d| *d <= last) {
            check_day(year, kind, date)?;
            let day = NationalDay {
                date,
                kind,
                holiday,
                notice,
            };
            if let Some(earlier) = self.days.insert(date, day) {
                if earlier.notice == notice {
                    return Err(format!("{date} is named twice by one notice"));
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> NationalData {
        NationalData {
            notices: self.notices,
            days: self.days.into_values().collect(),
            declared_years: self.declared_years,
        }
    }
}

/// A notice for `year` names days of `year` or of the December before it, and works weekends.
fn check_day(year: i32, kind: DayKind, date: NaiveDate) -> Result<(), String> {
    let in_year = date.year() == year || (date.year() == year - 1 && date.month() == 12);
    if !in_year {
        return Err(format!(
            "{date} is outside year {year} and the December before it"
        ));
    }
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    if kind == DayKind::Workday && !weekend {
        return Err(format!(
            "{date} is a shifted workday but not a Saturday or Sunday"
        ));
    }
    Ok(())
}

fn parse_span(span: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let (first, last) = match span.split_once("..") {
        Some((first, last)) => (parse_date(first)?, parse_date(last)?),
        None => {
            let date = parse_date(span)?;
            (date, date)
        }
    };
    if last < first {
        return Err(format!("range {span} runs backwards"));
    }
    Ok((first, last))
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("bad date {text:?}"))
}
