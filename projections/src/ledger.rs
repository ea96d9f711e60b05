//! The performance assessment ledger (绩效评估): an append-only list of entries per org unit
//! and month, each naming its measure, amount, score points, rule, and the positions of the
//! events that caused it. Later facts never rewrite an entry: an exemption or an upheld appeal
//! adds adjusting entries that cite the entry they reverse, and an event recorded after its
//! month closed adds its entry to that month, marked late.
//!
//! Entry ids are stable: `<position of the causing event>/<measure>[/<n>]` (see
//! [`Entry::key`]), the same whether the ledger is folded live, from a snapshot, with `--now`
//! or as a closed period was. Appeals name entries by these ids and may reverse cards and
//! ratings only (a rating at once: `rated`, `satisfied` or `bad_rated`, and its `rating.bad`
//! card).
//!
//! Attribution: `accepted` goes to the month of the `Accepted`
//! event and the accepting org; `concluded`, `on_time`, `early` and `statutory_on_time` to the
//! month of the `Concluded` event; ratings to the `Rated` event's month; complaints to the
//! `Complained` event's; cards and warnings to the instant they were raised. The org is the
//! case's accountable org at that moment (the accepting org, or the last transfer's target),
//! or for a case never accepted the org of the counted event.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use hashbrown::HashMap;
use jiancha_events::{Channel, EventData, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::case::{Alert, CaseState};
use crate::entries::Row;
use crate::instant::{china_date, date_of};
use crate::view::Conclusion;
use crate::{Applied, Projections};

/// A calendar month as `YYYY * 100 + MM` (e.g. 202603).
pub type Month = u32;

/// The month of a date.
pub fn month_of(date: chrono::NaiveDate) -> Month {
    date.year().max(0) as u32 * 100 + date.month()
}

/// What an entry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// A case accepted (受理).
    Accepted,
    /// A case concluded (办结).
    Concluded,
    /// Concluded on or before the promised due date (按时办结).
    OnTime,
    /// Concluded before the promised due date (提前办结).
    Early,
    /// Concluded on or before the statutory due date.
    StatutoryOnTime,
    /// A rating.
    Rated,
    /// A rating of 4 or 5 (满意).
    Satisfied,
    /// A rating of 1 or 2 (差评).
    BadRated,
    /// A complaint (投诉).
    #[serde(rename = "complaints")]
    Complaint,
    /// A prompt before the promised limit expires (预警提示): not a card.
    Warnings,
    /// A yellow card.
    Yellow,
    /// A red card.
    Red,
    /// A case of an item the catalog does not define: it could not be monitored.
    Unmonitored,
    /// A correction order (督办) received.
    Ordered,
    /// An order reported back within its days and then verified.
    CorrectedOnTime,
    /// An order gone past its due date without a report-back.
    CorrectionOverdue,
    /// A bad rating the center verified as valid (属实): it must be rectified.
    BadValid,
    /// A valid bad rating rectified within its days.
    RectifiedOnTime,
    /// A call-back (回访) scored 4 or 5.
    CallbackSatisfied,
    /// A rating given by default when the window closed unrated.
    Defaulted,
    /// A complaint answered as upheld.
    ComplaintsUpheld,
    /// A complaint accepted or answered late.
    ComplaintsLate,
    /// A procurement project registered (its purchaser, the month of registration).
    ProcProjects,
    /// A procurement award notice.
    ProcAwards,
    /// A procurement contract signed.
    ProcContracts,
    /// A procurement contract signed within 30 natural days of the award notice.
    ProcContractsOnTime,
    /// A yellow card on a procurement project.
    ProcYellow,
    /// A red card on a procurement project.
    ProcRed,
}

impl Measure {
    /// Every measure, in the order of [`jiancha_events::ENTRY_MEASURES`].
    pub const ALL: [Measure; 28] = [
        Measure::Accepted,
        Measure::Concluded,
        Measure::OnTime,
        Measure::Early,
        Measure::StatutoryOnTime,
        Measure::Rated,
        Measure::Satisfied,
        Measure::BadRated,
        Measure::Complaint,
        Measure::Warnings,
        Measure::Yellow,
        Measure::Red,
        Measure::Unmonitored,
        Measure::Ordered,
        Measure::CorrectedOnTime,
        Measure::CorrectionOverdue,
        Measure::BadValid,
        Measure::RectifiedOnTime,
        Measure::CallbackSatisfied,
        Measure::Defaulted,
        Measure::ComplaintsUpheld,
        Measure::ComplaintsLate,
        Measure::ProcProjects,
        Measure::ProcAwards,
        Measure::ProcContracts,
        Measure::ProcContractsOnTime,
        Measure::ProcYellow,
        Measure::ProcRed,
    ];

    /// The wire name (as in entry ids and report columns).
    pub fn as_str(self) -> &'static str {
        let i = Measure::ALL.iter().position(|m| *m == self).unwrap_or(0);
        jiancha_events::ENTRY_MEASURES[i]
    }

    /// The measure of a wire name.
    pub fn parse(text: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// Whether it is a procurement measure: counted in the procurement report, never in the
    /// approval report's sums.
    pub fn is_procurement(self) -> bool {
        matches!(
            self,
            Measure::ProcProjects
                | Measure::ProcAwards
                | Measure::ProcContracts
                | Measure::ProcContractsOnTime
                | Measure::ProcYellow
                | Measure::ProcRed
        )
    }

    /// Whether it counts a yellow or red card, of a case or of a procurement project.
    pub fn is_card(self) -> bool {
        matches!(
            self,
            Measure::Red | Measure::Yellow | Measure::ProcRed | Measure::ProcYellow
        )
    }

    /// Whether it counts a rating (an appeal removes the whole rating).
    pub fn is_rating(self) -> bool {
        matches!(
            self,
            Measure::Rated | Measure::Satisfied | Measure::BadRated
        )
    }
}

/// Why an entry is there, besides its measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Counted when its event was folded, in its own month.
    Regular,
    /// Counted in a month that had already ended when the event was recorded.
    Late,
    /// Reverses another entry: the case was exempted (免责).
    Exempted,
    /// Reverses another entry: an appeal against it was upheld (申诉).
    AppealUpheld,
}

/// One assessment entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The entry's place in ledger order, 1, 2, … (internal: the stable id is [`Entry::key`]).
    pub index: u64,
    /// 1 for the first entry of its measure caused by its event, 2 for the next, …
    pub n: u16,
    /// The month it counts in.
    pub month: Month,
    /// The org unit it counts for.
    #[serde(with = "crate::shared::string")]
    pub org: Arc<str>,
    /// The item of the case.
    #[serde(with = "crate::shared::string")]
    pub item: Arc<str>,
    /// The channel of the case.
    pub channel: Channel,
    /// The case.
    #[serde(with = "crate::shared::string")]
    pub case: Arc<str>,
    /// What it counts.
    pub measure: Measure,
    /// +1, or -1 for a reversal.
    pub amount: i64,
    /// Score points (cards); negated in a reversal.
    pub points: i64,
    /// The rule behind it: an alert rule code for cards, else the measure's rule.
    #[serde(with = "crate::shared::rule")]
    pub rule: Cow<'static, str>,
    /// How it came about.
    pub kind: EntryKind,
    /// The position of the event that caused it (for a card the clock raised, the event whose
    /// state set the threshold; for a reversal, the exemption or appeal).
    pub caused_by: u64,
    /// The entry it reverses (its index).
    pub adjusts: Option<u64>,
    /// The previous entry of the same case (0 for none): the chain an exemption walks.
    pub prev_of_case: u64,
    /// The case's sequence number in the projections.
    pub seq: u32,
}

/// The scoring scheme: integer points per org and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scoring {
    /// Points every org starts a month with.
    pub base_points: i64,
    /// Points per yellow card (negative).
    pub yellow_points: i64,
    /// Points per red card (negative).
    pub red_points: i64,
    /// Early completions are rewarded per full step of this many percent of conclusions.
    pub early_step_percent: i64,
    /// Points per full early step.
    pub early_step_points: i64,
    /// The lowest monthly score.
    pub floor_points: i64,
    /// Points for every `warning_step`-th warning of an org and month (negative).
    pub warning_points: i64,
    /// How many warnings cost `warning_points` once.
    pub warning_step: i64,
    /// The lowest score graded 优秀 (excellent).
    pub excellent_points: i64,
    /// The lowest score graded 良好 (good).
    pub good_points: i64,
    /// The lowest score graded 合格 (pass); below it 不合格 (fail).
    pub pass_points: i64,
    /// Points per complaint answered as upheld (negative).
    pub complaint_upheld_points: i64,
    /// Points per correction order gone overdue (negative), beside the red card itself.
    pub correction_overdue_points: i64,
    /// The rating a case gets when its rating window closes unrated (Guangdong: 3 基本满意);
    /// off when absent.
    pub default_rating: Option<u8>,
}

/// A scoring scheme that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("default_rating: must be 1 to 5 (3 基本满意), got {0}")]
pub struct ScoringError(pub u8);

impl Scoring {
    /// Checks what the types alone cannot say: a default rating is a rating, 1 to 5.
    pub fn check(&self) -> Result<(), ScoringError> {
        match self.default_rating {
            Some(score) if !(1..=5).contains(&score) => Err(ScoringError(score)),
            _ => Ok(()),
        }
    }

    /// The grade of a score in hundredths of a point.
    pub fn grade(&self, score_centi: i128) -> &'static str {
        let at_least = |points: i64| score_centi >= i128::from(points) * 100;
        if at_least(self.excellent_points) {
            "优秀"
        } else if at_least(self.good_points) {
            "良好"
        } else if at_least(self.pass_points) {
            "合格"
        } else {
            "不合格"
        }
    }
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            base_points: 100,
            yellow_points: -5,
            red_points: -10,
            early_step_percent: 10,
            early_step_points: 1,
            floor_points: 0,
            warning_points: -3,
            warning_step: 3,
            excellent_points: 90,
            good_points: 80,
            pass_points: 60,
            complaint_upheld_points: -5,
            correction_overdue_points: 0,
            default_rating: None,
        }
    }
}

/// Sums of entries: the counters a report row is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Cases accepted.
    pub accepted: i64,
    /// Cases concluded.
    pub concluded: i64,
    /// Concluded on time (promised).
    pub on_time: i64,
    /// Concluded early.
    pub early: i64,
    /// Concluded within the statutory limit.
    pub statutory_on_time: i64,
    /// Ratings.
    pub rated: i64,
    /// Ratings of 4 or 5.
    pub satisfied: i64,
    /// Ratings of 1 or 2.
    pub bad_rated: i64,
    /// Complaints.
    pub complaints: i64,
    /// Warnings (prompts, not cards).
    pub warnings: i64,
    /// Yellow cards.
    pub yellow: i64,
    /// Red cards.
    pub red: i64,
    /// Cases of items the catalog does not define.
    pub unmonitored: i64,
    /// A correction order (督办) received.
    #[serde(default)]
    pub ordered: i64,
    /// An order reported back within its days and then verified.
    #[serde(default)]
    pub corrected_on_time: i64,
    /// An order gone past its due date without a report-back.
    #[serde(default)]
    pub correction_overdue: i64,
    /// A bad rating the center verified as valid (属实): it must be rectified.
    #[serde(default)]
    pub bad_valid: i64,
    /// A valid bad rating rectified within its days.
    #[serde(default)]
    pub rectified_on_time: i64,
    /// A call-back (回访) scored 4 or 5.
    #[serde(default)]
    pub callback_satisfied: i64,
    /// A rating given by default when the window closed unrated.
    #[serde(default)]
    pub defaulted: i64,
    /// A complaint answered as upheld.
    #[serde(default)]
    pub complaints_upheld: i64,
    /// A complaint accepted or answered late.
    #[serde(default)]
    pub complaints_late: i64,
    /// Card points.
    pub points: i64,
}

impl Counts {
    /// Every count by its measure's wire name, in the order of [`Measure::ALL`] (the
    /// procurement measures, counted apart, left out), then `points` (card points).
    pub fn named(&self) -> Vec<(&'static str, i64)> {
        let mut copy = *self;
        Measure::ALL
            .iter()
            .filter_map(|&m| Some((m.as_str(), *copy.field_mut(m)?)))
            .chain(std::iter::once(("points", self.points)))
            .collect()
    }

    /// Adds an entry.
    pub fn add(&mut self, e: &Entry) {
        self.count(e.measure, e.amount, e.points);
    }

    /// Adds `amount` of `measure`, with its points (a procurement measure is the
    /// procurement report's: not counted here).
    pub(crate) fn count(&mut self, measure: Measure, a: i64, points: i64) {
        let Some(field) = self.field_mut(measure) else {
            return;
        };
        *field += a;
        self.points += points;
    }

    /// The count of a measure (none for the procurement measures).
    fn field_mut(&mut self, measure: Measure) -> Option<&mut i64> {
        Some(match measure {
            // The procurement report's (see `kinds::procurement::report`).
            Measure::ProcProjects
            | Measure::ProcAwards
            | Measure::ProcContracts
            | Measure::ProcContractsOnTime
            | Measure::ProcYellow
            | Measure::ProcRed => return None,
            Measure::Accepted => &mut self.accepted,
            Measure::Concluded => &mut self.concluded,
            Measure::OnTime => &mut self.on_time,
            Measure::Early => &mut self.early,
            Measure::StatutoryOnTime => &mut self.statutory_on_time,
            Measure::Rated => &mut self.rated,
            Measure::Satisfied => &mut self.satisfied,
            Measure::BadRated => &mut self.bad_rated,
            Measure::Complaint => &mut self.complaints,
            Measure::Warnings => &mut self.warnings,
            Measure::Yellow => &mut self.yellow,
            Measure::Red => &mut self.red,
            Measure::Unmonitored => &mut self.unmonitored,
            Measure::Ordered => &mut self.ordered,
            Measure::CorrectedOnTime => &mut self.corrected_on_time,
            Measure::CorrectionOverdue => &mut self.correction_overdue,
            Measure::BadValid => &mut self.bad_valid,
            Measure::RectifiedOnTime => &mut self.rectified_on_time,
            Measure::CallbackSatisfied => &mut self.callback_satisfied,
            Measure::Defaulted => &mut self.defaulted,
            Measure::ComplaintsUpheld => &mut self.complaints_upheld,
            Measure::ComplaintsLate => &mut self.complaints_late,
        })
    }

    /// Adds other counts.
    pub fn merge(&mut self, o: &Counts) {
        self.accepted += o.accepted;
        self.concluded += o.concluded;
        self.on_time += o.on_time;
        self.early += o.early;
        self.statutory_on_time += o.statutory_on_time;
        self.rated += o.rated;
        self.satisfied += o.satisfied;
        self.bad_rated += o.bad_rated;
        self.complaints += o.complaints;
        self.warnings += o.warnings;
        self.yellow += o.yellow;
        self.red += o.red;
        self.unmonitored += o.unmonitored;
        self.ordered += o.ordered;
        self.corrected_on_time += o.corrected_on_time;
        self.correction_overdue += o.correction_overdue;
        self.bad_valid += o.bad_valid;
        self.rectified_on_time += o.rectified_on_time;
        self.callback_satisfied += o.callback_satisfied;
        self.defaulted += o.defaulted;
        self.complaints_upheld += o.complaints_upheld;
        self.complaints_late += o.complaints_late;
        self.points += o.points;
    }

    /// Whether anything happened: a month with activity.
    pub fn is_active(&self) -> bool {
        *self != Counts::default()
    }

    /// The month's score under `scoring`: the base, the cards' points, the warnings' points
    /// (every `warning_step`-th one), and the early-completion bonus.
    pub fn score(&self, scoring: &Scoring) -> i64 {
        let steps = if self.concluded > 0 && scoring.early_step_percent > 0 {
            (self.early.min(self.concluded) * 100) / (self.concluded * scoring.early_step_percent)
        } else {
            0
        };
        (scoring.base_points
            + self.points
            + self.warning_deduction(scoring)
            + steps.max(0) * scoring.early_step_points)
            .max(scoring.floor_points)
    }

    /// The points the month's warnings cost.
    pub fn warning_deduction(&self, scoring: &Scoring) -> i64 {
        if scoring.warning_step > 0 {
            (self.warnings.max(0) / scoring.warning_step) * scoring.warning_points
        } else {
            0
        }
    }
}

/// How a report groups entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dimension {
    /// By org unit (rolled up along the org path at report time).
    Org,
    /// By item code.
    Item,
    /// By channel.
    Channel,
}

/// The ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// The scheme for card points.
    pub scoring: Scoring,
    entries: crate::entries::Entries,
    /// The last entry of each case, by the case's sequence number (0 for none).
    #[serde(deserialize_with = "crate::sorted::presized::deserialize")]
    last_of_case: Vec<u64>,
    #[serde(with = "crate::sorted::map")]
    reversed: HashMap<u64, u64>,
    /// Monthly sums per accountable org, kept as entries are added (reports by org read
    /// only these); sums by item or channel are gathered from the entries when asked.
    #[serde(with = "crate::sorted::map")]
    by_org: HashMap<Arc<str>, std::collections::BTreeMap<Month, Counts>>,
    /// Monthly procurement sums per purchaser org.
    proc_by_org:
        std::collections::BTreeMap<Arc<str>, std::collections::BTreeMap<Month, ProcCounts>>,
}

/// The procurement measures of one org and month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcCounts {
    /// Projects registered.
    pub projects: i64,
    /// Award notices.
    pub awards: i64,
    /// Contracts signed.
    pub contracts: i64,
    /// Contracts signed within 30 natural days of the award notice.
    pub contracts_on_time: i64,
    /// Yellow cards.
    pub yellow: i64,
    /// Red cards.
    pub red: i64,
    /// Card points.
    pub points: i64,
}

impl ProcCounts {
    /// Adds an entry of a procurement measure (others are ignored).
    pub fn add(&mut self, e: &Entry) {
        let a = e.amount;
        match e.measure {
            Measure::ProcProjects => self.projects += a,
            Measure::ProcAwards => self.awards += a,
            Measure::ProcContracts => self.contracts += a,
            Measure::ProcContractsOnTime => self.contracts_on_time += a,
            Measure::ProcYellow => self.yellow += a,
            Measure::ProcRed => self.red += a,
            _ => return,
        }
        self.points += e.points;
    }

    /// Adds other counts.
    pub fn merge(&mut self, o: &ProcCounts) {
        self.projects += o.projects;
        self.awards += o.awards;
        self.contracts += o.contracts;
        self.contracts_on_time += o.contracts_on_time;
        self.yellow += o.yellow;
        self.red += o.red;
        self.points += o.points;
    }
}

struct Source<'a> {
    case: &'a Arc<str>,
    seq: u32,
    org: &'a Arc<str>,
    item: &'a Arc<str>,
    channel: Channel,
    caused_by: u64,
    kind: EntryKind,
}

impl<'a> Source<'a> {
    /// The month and source of an alert's entries: the month it was raised in, for its org,
    /// late when that month had ended by the `recorded` month.
    fn of_alert(
        (case_key, case, seq): (&'a Arc<str>, &'a CaseState, u32),
        alert: &'a Alert,
        recorded: Month,
    ) -> (Month, Self) {
        let month = month_of(date_of(alert.raised_at));
        let src = Source {
            case: case_key,
            seq,
            org: &alert.org,
            item: &case.item,
            channel: case.channel,
            caused_by: alert.raised_by,
            kind: if month < recorded {
                EntryKind::Late
            } else {
                EntryKind::Regular
            },
        };
        (month, src)
    }
}

/// A workflow card's measure moved to the month of what the card is about — the order of the
/// card it follows, or the complaint — late when that month had ended by the `recorded` month;
/// unchanged when the case has no such order or complaint.
fn in_month_of_about<'a>(
    case: &CaseState,
    alert: &Alert,
    (month, src): (Month, Source<'a>),
    recorded: Month,
) -> (Month, Source<'a>) {
    let flow = case.flow.as_deref();
    let at = match alert.about {
        Some(crate::case::About::Card(rule, n)) => flow.and_then(|f| {
            f.cards
                .iter()
                .find(|c| c.rule == rule && c.n == n)
                .and_then(|c| c.order.as_ref())
                .map(|o| o.first_at)
        }),
        Some(crate::case::About::Complaint(k)) => flow.and_then(|f| {
            f.complaints
                .get(usize::from(k).checked_sub(1)?)
                .map(|c| c.at)
        }),
        _ => None,
    };
    let Some(about) = at.map(|at| month_of(date_of(at))) else {
        return (month, src);
    };
    let kind = match src.kind {
        EntryKind::Regular | EntryKind::Late if about < recorded => EntryKind::Late,
        EntryKind::Regular | EntryKind::Late => EntryKind::Regular,
        other => other,
    };
    (about, Source { kind, ..src })
}

impl Ledger {
    /// An empty ledger with a scoring scheme.
    pub fn new(scoring: Scoring) -> Self {
        Ledger {
            scoring,
            ..Ledger::default()
        }
    }

    /// Every entry, in ledger order.
    pub fn entries(
        &self,
    ) -> impl DoubleEndedIterator<Item = Entry> + ExactSizeIterator + Clone + '_ {
        self.entries.iter()
    }

    /// The entries whose month, org and measure `keep` accepts, in ledger order (only those
    /// are made whole).
    pub fn entries_matching(&self, keep: impl Fn(Month, &str, Measure) -> bool) -> Vec<Entry> {
        (1u64..)
            .zip(self.entries.rows())
            .filter(|(_, e)| keep(e.month, self.entries.org(e), e.measure))
            .filter_map(|(i, _)| self.entries.entry(i))
            .collect()
    }

    /// How many entries the ledger holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the ledger holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The entries of one case (its stream, numbered `seq` in the projections), in ledger
    /// order: read along the case's chain, not the whole list.
    pub fn case_entries(&self, seq: u32, case: &str) -> Vec<Entry> {
        let last = self.last_of_case.get(seq as usize).copied().unwrap_or(0);
        let mut out: Vec<Entry> = self
            .case_chain(last)
            .filter_map(|(i, _)| self.entries.entry(i))
            .filter(|e| &*e.case == case)
            .collect();
        out.extend(self.entries.off_their_number(case, seq));
        out.sort_by_key(|e| e.index);
        out.dedup_by_key(|e| e.index);
        out
    }

    /// The sums of one dimension per (month, key), in no particular order; org keys are the
    /// accountable org itself (reports roll them up along the path).
    pub fn sums(
        &self,
        dim: Dimension,
        months: std::ops::RangeInclusive<Month>,
    ) -> Vec<(Month, String, Counts)> {
        if dim == Dimension::Org {
            let mut out = Vec::new();
            for (org, by_month) in &self.by_org {
                for (m, c) in by_month.range(months.clone()) {
                    out.push((*m, org.to_string(), *c));
                }
            }
            return out;
        }
        let mut sums: std::collections::BTreeMap<(Month, &str), Counts> = Default::default();
        for e in self
            .entries
            .rows()
            .iter()
            .filter(|e| months.contains(&e.month))
        {
            let key = if dim == Dimension::Item {
                &**self.entries.item(e)
            } else {
                e.channel.as_str()
            };
            sums.entry((e.month, key))
                .or_default()
                .count(e.measure, e.amount(), e.points);
        }
        sums.into_iter()
            .map(|((m, k), c)| (m, k.to_owned(), c))
            .collect()
    }

    /// Folds one event, after `projections` applied it with the result `applied`.
    pub fn apply(&mut self, event: &StoredEvent, projections: &Projections, applied: &Applied) {
        let case_name = match &event.data {
            EventData::Exempted(e) => e.case.as_str(),
            // An appeal naming no case (the form before `case`) touches the ledger alone.
            EventData::AppealUpheld(a) if applied.case.is_none() => {
                return self.appeal(&a.entry, event.position, projections)
            }
            _ => applied.case.as_deref().unwrap_or_default(),
        };
        let Some(case) = projections.case(case_name) else {
            return;
        };
        if let EventData::Exempted(_) = &event.data {
            return self.exempt(case.seq, event.position);
        }
        let Some(case_key) = applied.case.as_ref() else {
            return;
        };
        let dates = (
            china_date(&event.occurred_at),
            china_date(&event.recorded_at),
        );
        let at = CaseEvent {
            event,
            dates,
            org: None,
        };
        self.apply_to_case(&at, (case_key, case), &applied.raised, |c| {
            projections.conclusion(c)
        });
        if !case.exempted {
            let recorded = month_of(dates.1);
            for o in &applied.outcomes {
                self.outcome(case_key, case, o, event.position, recorded);
            }
        }
        // After the cards the clock raised on the case up to the appeal: they may be part of
        // what it reverses.
        if let EventData::AppealUpheld(a) = &event.data {
            self.appeal(&a.entry, event.position, projections);
        }
    }

    /// The entry of a count a workflow act made (an order, a correction verified on time, …),
    /// in the month of the order, rating or complaint it belongs to.
    fn outcome(
        &mut self,
        case_key: &Arc<str>,
        case: &CaseState,
        o: &crate::workflow::Outcome,
        position: u64,
        recorded: Month,
    ) {
        let month = month_of(date_of(o.at));
        let src = Source {
            case: case_key,
            seq: case.seq,
            org: &o.org,
            item: &case.item,
            channel: case.channel,
            caused_by: position,
            kind: if month < recorded {
                EntryKind::Late
            } else {
                EntryKind::Regular
            },
        };
        let points = match o.measure {
            Measure::ComplaintsUpheld => self.scoring.complaint_upheld_points,
            _ => 0,
        };
        self.push(&src, month, o.measure, points, rule_of(o.measure));
    }

    /// Folds one event of a case (or one that raised alerts on it), after the projections
    /// applied it: `raised` are the alerts it raised, and `conclusion` tells how a case stands
    /// against its due dates.
    pub(crate) fn apply_to_case(
        &mut self,
        at: &CaseEvent<'_>,
        (case_key, case): (&Arc<str>, &CaseState),
        raised: &[Alert],
        conclusion: impl FnOnce(&CaseState) -> Conclusion,
    ) {
        if case.exempted {
            return;
        }
        let event = at.event;
        let (on, recorded_on) = at.dates;
        // Whether the event concluded the case, else what else it counts.
        let concluded = matches!(event.data, EventData::Concluded(_))
            && case.concluded.is_some_and(|c| c.2 == event.position);
        let measures: &[Measure] = match &event.data {
            // An acceptance, or the late notice by which the case counts as accepted.
            EventData::Accepted(_) | EventData::CorrectionRequested(_)
                if case
                    .accepted
                    .as_ref()
                    .is_some_and(|a| a.position == event.position) =>
            {
                &[Measure::Accepted]
            }
            // Only the counted rating (一事一评) counts.
            EventData::Rated(_) if !case.rating_counted(event.position) => &[],
            EventData::Rated(r) if r.score >= 4 => &[Measure::Rated, Measure::Satisfied],
            EventData::Rated(r) if r.score <= 2 => &[Measure::Rated, Measure::BadRated],
            EventData::Rated(_) => &[Measure::Rated],
            EventData::Complained(_) => &[Measure::Complaint],
            _ => &[],
        };
        if raised.is_empty() && measures.is_empty() && !concluded {
            return;
        }
        let recorded = month_of(recorded_on);
        for alert in raised {
            self.card((case_key, case, case.seq), alert, recorded);
        }
        // A conclusion entered after the fact counts at its recorded date.
        let on = match case.concluded {
            Some((_, counted_on, _)) if concluded => counted_on,
            _ => on,
        };
        let month = month_of(on);
        let kind = if month < recorded {
            EntryKind::Late
        } else {
            EntryKind::Regular
        };
        // A case never accepted counts for the org that acted.
        let org = match (&case.accepted, at.org) {
            (None, Some(org)) if !case.no_acceptance => org,
            _ => case.org(),
        };
        let src = Source {
            case: case_key,
            seq: case.seq,
            org,
            item: &case.item,
            channel: case.channel,
            caused_by: event.position,
            kind,
        };
        if concluded {
            return self.concluded(&src, month, conclusion(case));
        }
        for m in measures {
            self.push(&src, month, *m, 0, rule_of(*m));
        }
    }

    /// Folds one event of a procurement project: the alerts it raised (cards) and what it
    /// counts (a registration, an award, a contract and whether it was on time).
    pub(crate) fn apply_to_project(
        &mut self,
        event: &StoredEvent,
        dates: (NaiveDate, NaiveDate),
        (case_key, case): (&Arc<str>, &CaseState),
        raised: &[Alert],
        counted: &[Measure],
    ) {
        if case.exempted {
            return;
        }
        let (on, recorded_on) = dates;
        let recorded = month_of(recorded_on);
        for alert in raised {
            self.card((case_key, case, case.seq), alert, recorded);
        }
        let month = month_of(on);
        let src = Source {
            case: case_key,
            seq: case.seq,
            org: case.org(),
            item: &case.item,
            channel: case.channel,
            caused_by: event.position,
            kind: if month < recorded {
                EntryKind::Late
            } else {
                EntryKind::Regular
            },
        };
        for m in counted {
            // A contract counts in its own month, on time or not: an award entered after it
            // makes it on time there, never in the award's month (the rate stays within 1).
            let month = match m {
                Measure::ProcContracts | Measure::ProcContractsOnTime => {
                    crate::kinds::procurement::contract_on(case).map_or(month, month_of)
                }
                _ => month,
            };
            let src = Source {
                kind: if month < recorded {
                    EntryKind::Late
                } else {
                    EntryKind::Regular
                },
                ..src
            };
            self.push(&src, month, *m, 0, rule_of(*m));
        }
    }

    fn concluded(&mut self, src: &Source<'_>, month: Month, outcome: Conclusion) {
        self.push(
            src,
            month,
            Measure::Concluded,
            0,
            rule_of(Measure::Concluded),
        );
        for (flag, m) in [
            (outcome.on_time, Measure::OnTime),
            (outcome.early, Measure::Early),
            (outcome.statutory_on_time, Measure::StatutoryOnTime),
        ] {
            if flag == Some(true) {
                self.push(src, month, m, 0, rule_of(m));
            }
        }
    }

    /// The entry of an alert the event raised (a card, or a warning); `recorded` is the month
    /// the event was recorded. A case found unmonitorable is counted as such beside its card.
    fn card(
        &mut self,
        (case_key, case, seq): (&Arc<str>, &CaseState, u32),
        alert: &Alert,
        recorded: Month,
    ) {
        use crate::Rule;
        // Not the unit's doing: a failed notice is the system's, a second rating the
        // citizen's.
        if matches!(alert.rule, Rule::NotifyFailed | Rule::RatingDuplicate) {
            return;
        }
        if alert.rule == Rule::RatingDefaulted {
            return self.default_rating((case_key, case, seq), alert, recorded);
        }
        let (mut measure, points) = card_measure(&self.scoring, alert.rule.severity());
        // A card on a procurement project counts in the procurement report.
        if case.kind.is_some() {
            measure = match measure {
                Measure::Yellow => Measure::ProcYellow,
                Measure::Red => Measure::ProcRed,
                _ => return,
            };
        }
        let (month, src) = Source::of_alert((case_key, case, seq), alert, recorded);
        self.push(&src, month, measure, points, alert.rule.code());
        match alert.rule {
            Rule::ItemUnknown => {
                self.push(&src, month, Measure::Unmonitored, 0, alert.rule.code());
            }
            // An order's measures count in the month of the order, a complaint's in the month
            // of the complaint, like `ordered` and `complaints_upheld` beside them. An order
            // gone overdue counts once while one of its cards stands: at its first round run
            // out (a rejected report-back that runs out again is a second card, not a second
            // overdue order), and again only when the cards before were appealed.
            Rule::CorrectionOverdue if !self.lateness_stands(case, seq, case_key, alert) => {
                let points = self.scoring.correction_overdue_points;
                let (month, src) = in_month_of_about(case, alert, (month, src), recorded);
                self.push(
                    &src,
                    month,
                    Measure::CorrectionOverdue,
                    points,
                    alert.rule.code(),
                );
            }
            // A complaint handled late counts once, at its first late step (likewise).
            Rule::ComplaintAcceptanceLate | Rule::ComplaintReplyLate
                if !self.lateness_stands(case, seq, case_key, alert) =>
            {
                let (month, src) = in_month_of_about(case, alert, (month, src), recorded);
                self.push(&src, month, Measure::ComplaintsLate, 0, alert.rule.code());
            }
            _ => {}
        }
    }

    /// The entries of a default rating (the window closed unrated): a rating of the scoring's
    /// `default_rating`, counted apart as `defaulted`.
    fn default_rating(
        &mut self,
        (case_key, case, seq): (&Arc<str>, &CaseState, u32),
        alert: &Alert,
        recorded: Month,
    ) {
        let Some(score) = self.scoring.default_rating else {
            return;
        };
        let (month, src) = Source::of_alert((case_key, case, seq), alert, recorded);
        let mut measures = vec![Measure::Rated];
        if score >= 4 {
            measures.push(Measure::Satisfied);
        }
        if score <= 2 {
            measures.push(Measure::BadRated);
        }
        measures.push(Measure::Defaulted);
        for m in measures {
            self.push(&src, month, m, 0, alert.rule.code());
        }
    }

    fn push(
        &mut self,
        src: &Source<'_>,
        month: Month,
        measure: Measure,
        points: i64,
        rule: &'static str,
    ) {
        let entry = Entry {
            index: self.entries.len() as u64 + 1,
            n: 1,
            month,
            org: src.org.clone(),
            item: src.item.clone(),
            channel: src.channel,
            case: src.case.clone(),
            measure,
            amount: 1,
            points,
            rule: Cow::Borrowed(rule),
            kind: src.kind,
            caused_by: src.caused_by,
            adjusts: None,
            prev_of_case: 0,
            seq: src.seq,
        };
        self.record(entry);
    }

    fn record(&mut self, mut entry: Entry) {
        let seq = entry.seq;
        if entry.measure.is_procurement() {
            self.proc_by_org
                .entry(entry.org.clone())
                .or_default()
                .entry(entry.month)
                .or_default()
                .add(&entry);
        } else {
            self.record_sums(&entry);
        }
        let seq = seq as usize;
        if self.last_of_case.len() <= seq {
            self.last_of_case.resize(seq + 1, 0);
        }
        entry.prev_of_case = self.last_of_case[seq];
        // Entries of one event and measure are numbered in ledger order: the earlier ones are
        // on the same case's chain (an event's entries all concern one case).
        entry.n = 1 + self
            .case_chain(entry.prev_of_case)
            .filter(|(_, e)| e.caused_by == entry.caused_by && e.measure == entry.measure)
            .count() as u16;
        if self.entries.len() == self.entries.capacity() {
            self.entries.reserve(growth(self.entries.len()));
        }
        // The fold makes every entry a row can hold: its index is the next one (set by the
        // callers from the list's length) and its amount +1, or -1 for a reversal of a +1.
        let pushed = self.entries.push(&entry);
        debug_assert_eq!(pushed, Ok(()));
        if pushed.is_ok() {
            self.last_of_case[seq] = entry.index;
        }
    }

    /// The monthly sums per procurement purchaser org.
    pub fn procurement_sums(
        &self,
    ) -> &std::collections::BTreeMap<Arc<str>, std::collections::BTreeMap<Month, ProcCounts>> {
        &self.proc_by_org
    }

    fn record_sums(&mut self, entry: &Entry) {
        // Looked up by the borrowed path: no key is built unless the org is new.
        match self.by_org.get_mut(&*entry.org) {
            Some(by_month) => by_month.entry(entry.month).or_default().add(entry),
            None => {
                let mut by_month = std::collections::BTreeMap::new();
                by_month.insert(entry.month, Counts::default());
                by_month.entry(entry.month).or_default().add(entry);
                self.by_org.insert(entry.org.clone(), by_month);
            }
        }
    }

    /// The entries of a case's chain (index and row), newest first, from the entry with index
    /// `from`.
    fn case_chain(&self, from: u64) -> impl Iterator<Item = (u64, &Row)> {
        let mut next = from;
        std::iter::from_fn(move || {
            let index = next;
            let e = self.entries.row(index)?;
            next = e.prev_of_case;
            Some((index, e))
        })
    }

    /// The lateness an appeal of the card `target` takes with it: the `correction_overdue` of
    /// its order or the `complaints_late` of its complaint (entered right after the order's or
    /// complaint's first card), when `target` is the last of that order's or complaint's cards
    /// to stand. A lateness stands while one of its cards does: an order whose first round's
    /// card is appealed but whose second round also ran out was still overdue. Without the
    /// case's state (an entry of a case the fold no longer knows), the card's own lateness.
    fn lateness_of_card(&self, target: &Entry, case: Option<&CaseState>) -> Option<u64> {
        if !target.measure.is_card() {
            return None;
        }
        let family = lateness_family(&target.rule)?;
        let Some((case, about)) = case.and_then(|c| Some((c, alert_of_entry(c, target)?.about?)))
        else {
            return self.lateness_after(target);
        };
        let mut lateness = None;
        for card in self.case_entries(target.seq, &target.case) {
            let sibling = card.measure.is_card()
                && card.adjusts.is_none()
                && family.contains(&&*card.rule)
                && alert_of_entry(case, &card).and_then(|a| a.about) == Some(about);
            if !sibling {
                continue;
            }
            if card.index != target.index && !self.reversed.contains_key(&card.index) {
                // Another card of the order or complaint stands, and its lateness with it.
                return None;
            }
            lateness = lateness.or_else(|| self.lateness_after(&card));
        }
        lateness
    }

    /// The standing lateness entered right after the card `card` (its order's or complaint's
    /// first card), of its rule and event.
    fn lateness_after(&self, card: &Entry) -> Option<u64> {
        self.entries
            .entry(card.index + 1)
            .filter(|e| {
                matches!(
                    e.measure,
                    Measure::CorrectionOverdue | Measure::ComplaintsLate
                ) && e.rule == card.rule
                    && e.caused_by == card.caused_by
                    && e.case == card.case
                    && e.adjusts.is_none()
                    && !self.reversed.contains_key(&e.index)
            })
            .map(|e| e.index)
    }

    /// Whether a standing lateness of the order or complaint `alert` is about was counted:
    /// the lateness entered after one of its earlier cards, not reversed.
    fn lateness_stands(&self, case: &CaseState, seq: u32, case_key: &str, alert: &Alert) -> bool {
        let Some(family) = lateness_family(alert.rule.code()) else {
            return false;
        };
        self.case_entries(seq, case_key).iter().any(|card| {
            card.measure.is_card()
                && card.adjusts.is_none()
                && family.contains(&&*card.rule)
                && alert_of_entry(case, card).is_some_and(|a| a.about == alert.about)
                && self.lateness_after(card).is_some()
        })
    }

    fn reverse(&mut self, index: u64, kind: EntryKind, position: u64) {
        if self.reversed.contains_key(&index) {
            return;
        }
        let Some(original) = self.entries.entry(index) else {
            return;
        };
        if original.adjusts.is_some() {
            return;
        }
        let new_index = self.entries.len() as u64 + 1;
        self.reversed.insert(index, new_index);
        self.record(Entry {
            index: new_index,
            n: 1,
            amount: -original.amount,
            points: -original.points,
            kind,
            caused_by: position,
            adjusts: Some(index),
            prev_of_case: 0,
            ..original
        });
    }

    /// Reverses every entry of a case (walking its chain), once.
    fn exempt(&mut self, seq: u32, position: u64) {
        let last = self.last_of_case.get(seq as usize).copied().unwrap_or(0);
        let mut ids: Vec<u64> = self
            .case_chain(last)
            .filter(|(_, e)| e.adjusts().is_none())
            .map(|(i, _)| i)
            .collect();
        ids.reverse();
        for id in ids {
            self.reverse(id, EntryKind::Exempted, position);
        }
    }

    /// The entries `alerts` (raised by the clock on `case`, not yet folded) will make, without
    /// making them: numbered after the case's entries as [`Ledger::record`] would number them.
    pub(crate) fn entries_for_alerts(
        &self,
        case_key: &Arc<str>,
        case: &CaseState,
        alerts: &[Alert],
    ) -> Vec<Entry> {
        let mut scratch = Ledger {
            scoring: self.scoring,
            ..Ledger::default()
        };
        // The case's own chain, copied, so numbering continues from it.
        let last = self
            .last_of_case
            .get(case.seq as usize)
            .copied()
            .unwrap_or(0);
        let mut chain: Vec<Entry> = self
            .case_chain(last)
            .filter_map(|(i, _)| self.entries.entry(i))
            .collect();
        chain.reverse();
        let first_new = chain.len();
        // The chain's reversals stay reversals in the copy: a reversed lateness is not counted
        // as standing (see `lateness_stands`).
        let place: HashMap<u64, u64> = chain
            .iter()
            .enumerate()
            .map(|(i, e)| (e.index, i as u64 + 1))
            .collect();
        for (i, mut e) in chain.into_iter().enumerate() {
            e.index = i as u64 + 1;
            e.prev_of_case = i as u64;
            e.seq = 0;
            if let Some(original) = e.adjusts.and_then(|o| place.get(&o)) {
                scratch.reversed.insert(*original, e.index);
            }
            let pushed = scratch.entries.push(&e);
            debug_assert_eq!(pushed, Ok(()));
        }
        scratch.last_of_case = vec![first_new as u64];

        for alert in alerts {
            // Cards count in the month they were raised; none of these was recorded yet.
            scratch.card((case_key, case, 0), alert, 0);
        }
        let mut out: Vec<Entry> = scratch.entries.iter().skip(first_new).collect();
        for e in &mut out {
            e.index = 0;
            e.prev_of_case = 0;
            e.seq = case.seq;
        }
        out
    }

    /// The entry with a stable id, if the ledger has it.
    pub fn find(&self, id: &jiancha_events::EntryId) -> Option<Entry> {
        let measure = Measure::parse(id.measure)?;
        let place = self
            .entries
            .rows()
            .iter()
            .position(|e| e.caused_by == id.position && e.measure == measure && e.n == id.n)?;
        self.entries.entry(place as u64 + 1)
    }

    /// What an appeal of `entry` would reverse, or why it cannot be appealed: the entry must
    /// exist, be a card or a rating, and not be reversed already. A rating goes with its whole
    /// workflow: its entries, its `rating.bad` card, and what its verification, rectification
    /// and call-back counted (`bad_valid`, `rectified_on_time`, `callback_satisfied`, and the
    /// `rating.unverified` and `rating.rectification.overdue` cards). One rating counts per
    /// case (一事一评), so these are the case's.
    ///
    /// `case_of` gives a case's state by stream: a lateness card's lateness goes only with the
    /// last of its order's or complaint's cards to stand (see [`Ledger::lateness_of_card`]).
    pub fn appeal_targets<'c>(
        &self,
        entry: &str,
        case_of: impl Fn(&str) -> Option<&'c CaseState>,
    ) -> Result<Vec<u64>, AppealError> {
        let id = jiancha_events::EntryId::parse(entry)?;
        let target = self
            .find(&id)
            .ok_or_else(|| AppealError::NoSuchEntry(id.to_string()))?;
        if target.adjusts.is_some() || self.reversed.contains_key(&target.index) {
            return Err(AppealError::AlreadyReversed(id.to_string()));
        }
        let rating_card = target.rule == crate::Rule::RatingBad.code();
        if !target.measure.is_rating() && !rating_card {
            // A lateness card takes the lateness counted with its order or complaint, when no
            // other card of it stands, as an appeal of a rating takes what the rating counted.
            let lateness = self.lateness_of_card(&target, case_of(&target.case));
            return Ok(std::iter::once(target.index).chain(lateness).collect());
        }
        // The whole rating: every rating entry of the Rated event, its bad-rating card, and
        // what its workflow counted.
        let rating = target.caused_by;
        let of_workflow = |e: &Row| {
            let rule = self.entries.rule(e);
            matches!(
                e.measure,
                Measure::BadValid | Measure::RectifiedOnTime | Measure::CallbackSatisfied
            ) || rule == crate::Rule::RatingUnverified.code()
                || rule == crate::Rule::RectificationOverdue.code()
        };
        Ok(self
            .case_chain(
                self.last_of_case
                    .get(target.seq as usize)
                    .copied()
                    .unwrap_or(0),
            )
            .filter(|(_, e)| e.adjusts().is_none())
            .filter(|(_, e)| {
                (e.caused_by == rating
                    && (e.measure.is_rating()
                        || self.entries.rule(e) == crate::Rule::RatingBad.code()))
                    || of_workflow(e)
            })
            .filter(|(i, _)| !self.reversed.contains_key(i))
            .map(|(i, _)| i)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect())
    }

    /// The case of the entry an id names, if the ledger holds it (reversed or not).
    pub fn case_of(&self, entry: &str) -> Option<Arc<str>> {
        let id = jiancha_events::EntryId::parse(entry).ok()?;
        self.find(&id).map(|e| e.case.clone())
    }

    /// [`Ledger::appeal_targets`] for an appeal that may name its case: the case must be the
    /// entry's (an appeal naming another case would be folded with the wrong case). Returns the
    /// entry's case, which an appeal should name.
    pub fn appeal_case<'c>(
        &self,
        entry: &str,
        case: Option<&str>,
        case_of: impl Fn(&str) -> Option<&'c CaseState>,
    ) -> Result<Arc<str>, AppealError> {
        self.appeal_targets(entry, case_of)?;
        let id = jiancha_events::EntryId::parse(entry)?;
        let target = self
            .find(&id)
            .ok_or_else(|| AppealError::NoSuchEntry(id.to_string()))?;
        match case {
            Some(named) if named != &*target.case => Err(AppealError::OtherCase {
                entry: id.to_string(),
                named: named.to_owned(),
                case: target.case.to_string(),
            }),
            _ => Ok(target.case.clone()),
        }
    }

    /// An upheld appeal reverses what [`Ledger::appeal_targets`] names; an appeal that names
    /// nothing appealable (refused at append since v2, or written before it) changes nothing.
    fn appeal(&mut self, entry: &str, position: u64, projections: &Projections) {
        let Ok(targets) = self.appeal_targets(entry, |c| projections.case(c)) else {
            return;
        };
        for index in targets {
            self.reverse(index, EntryKind::AppealUpheld, position);
        }
    }
}

/// The rule codes of the cards that count one lateness together: an order's
/// `supervision.correction.overdue` rounds, or a complaint's late acceptance and late reply.
fn lateness_family(rule: &str) -> Option<&'static [&'static str]> {
    const ORDER: &[&str] = &["supervision.correction.overdue"];
    const COMPLAINT: &[&str] = &["complaint.acceptance.late", "complaint.reply.late"];
    [ORDER, COMPLAINT]
        .into_iter()
        .find(|family| family.contains(&rule))
}

/// The case's alert a card entry counts: the ledger numbers an event's entries of one measure
/// in the order the case raised its cards of that severity.
fn alert_of_entry<'a>(case: &'a CaseState, e: &Entry) -> Option<&'a Alert> {
    let severity = match e.measure {
        Measure::Red | Measure::ProcRed => jiancha_events::Severity::Red,
        Measure::Yellow | Measure::ProcYellow => jiancha_events::Severity::Yellow,
        _ => return None,
    };
    case.alerts
        .iter()
        .filter(|a| a.raised_by == e.caused_by && a.rule.severity() == severity)
        .nth(usize::from(e.n).checked_sub(1)?)
        .filter(|a| a.rule.code() == e.rule)
}

/// Why an appeal names nothing it could reverse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppealError {
    /// The id is malformed or names an entry that cannot be appealed: correct it.
    #[error(transparent)]
    Id(#[from] jiancha_events::EntryIdError),
    /// No entry of the ledger has this id: look it up with `report explain`.
    #[error(
        "no ledger entry {0} (see `report explain` for the ids; one it lists as pending, a card \
         the clock raised that no event took in yet, is appealed naming its case)"
    )]
    NoSuchEntry(String),
    /// The entry was reversed already (an exemption or an earlier appeal): nothing to do.
    #[error("entry {0} is already reversed")]
    AlreadyReversed(String),
    /// The appeal names a case the entry does not belong to: name the entry's case.
    #[error("entry {entry} belongs to case {case}, not {named}")]
    OtherCase {
        /// The entry.
        entry: String,
        /// The case the appeal named.
        named: String,
        /// The entry's case.
        case: String,
    },
}

/// The measure and points of an alert's entry.
fn card_measure(scoring: &Scoring, severity: jiancha_events::Severity) -> (Measure, i64) {
    match severity {
        jiancha_events::Severity::Warning => (Measure::Warnings, 0),
        jiancha_events::Severity::Yellow => (Measure::Yellow, scoring.yellow_points),
        jiancha_events::Severity::Red => (Measure::Red, scoring.red_points),
    }
}

/// A case event as the ledger folds it: the event, the business dates of its instant and of
/// its recording, and the acting org when the fold interned it.
pub(crate) struct CaseEvent<'a> {
    pub(crate) event: &'a StoredEvent,
    pub(crate) dates: (NaiveDate, NaiveDate),
    pub(crate) org: Option<&'a Arc<str>>,
}

/// An entry as the CLI and the API show it: named by its stable id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// The stable id, `<position>/<measure>[/<n>]`.
    pub id: String,
    /// The month it counts in (`YYYYMM`).
    pub month: Month,
    /// The org unit it counts for.
    pub org: String,
    /// The case.
    pub case: String,
    /// The item of the case.
    pub item: String,
    /// The measure.
    pub measure: &'static str,
    /// +1, or -1 for a reversal.
    pub amount: i64,
    /// Score points.
    pub points: i64,
    /// The rule behind it.
    pub rule: String,
    /// regular, late, exempted or appeal_upheld.
    pub kind: EntryKind,
    /// The position of the event that caused it.
    pub caused_by: u64,
    /// The id of the entry it reverses.
    pub adjusts: Option<String>,
    /// Not yet in the ledger: a card the clock raised since the case's last event.
    pub pending: bool,
}

impl Ledger {
    /// An entry as shown, its reversal named by the reversed entry's id.
    pub fn view(&self, e: &Entry) -> EntryView {
        EntryView {
            id: e.key(),
            month: e.month,
            org: e.org.to_string(),
            case: e.case.to_string(),
            item: e.item.to_string(),
            measure: e.measure.as_str(),
            amount: e.amount,
            points: e.points,
            rule: e.rule.to_string(),
            kind: e.kind,
            caused_by: e.caused_by,
            adjusts: e
                .adjusts
                .and_then(|i| self.entries.entry(i))
                .map(|e| e.key()),
            pending: e.index == 0,
        }
    }
}

impl Entry {
    /// The stable id: `<position of the causing event>/<measure>[/<n>]`.
    pub fn key(&self) -> String {
        jiancha_events::EntryId {
            position: self.caused_by,
            measure: self.measure.as_str(),
            n: self.n,
        }
        .to_string()
    }
}

/// How many entries to make room for when the list of `len` entries is full. Growing moves
/// every entry to a new block unless the allocator can extend the old one in place; once the
/// list is large (a long log's ledger runs to hundreds of megabytes), it grows fourfold rather
/// than double, so that it is moved half as often.
fn growth(len: usize) -> usize {
    const LARGE: usize = 1 << 16;
    if len >= LARGE {
        len * 3
    } else {
        len.max(4)
    }
}

/// The rule name of a non-card measure.
/// A rule code as the `'static` text the fold writes, when it is one (an alert rule's or a
/// measure's); otherwise owned.
pub(crate) fn static_rule(code: &str) -> Cow<'static, str> {
    if let Some(rule) = crate::Rule::from_code(code) {
        return Cow::Borrowed(rule.code());
    }
    match Measure::ALL
        .iter()
        .map(|m| rule_of(*m))
        .find(|r| *r == code)
    {
        Some(r) => Cow::Borrowed(r),
        None => Cow::Owned(code.to_owned()),
    }
}

fn rule_of(m: Measure) -> &'static str {
    match m {
        Measure::Accepted => "case.accepted",
        Measure::Concluded => "case.concluded",
        Measure::OnTime => "case.concluded.on_time",
        Measure::Early => "case.concluded.early",
        Measure::StatutoryOnTime => "case.concluded.statutory_on_time",
        Measure::Rated => "case.rated",
        Measure::Satisfied => "case.rated.satisfied",
        Measure::BadRated => "case.rated.bad",
        Measure::Complaint => "case.complained",
        Measure::Warnings | Measure::Yellow | Measure::Red => "card",
        Measure::Unmonitored => "intake.item.unknown",
        Measure::Ordered => "supervision.ordered",
        Measure::CorrectedOnTime => "supervision.corrected_on_time",
        Measure::CorrectionOverdue => "supervision.correction.overdue",
        Measure::BadValid => "rating.valid",
        Measure::RectifiedOnTime => "rating.rectified_on_time",
        Measure::CallbackSatisfied => "rating.callback.satisfied",
        Measure::Defaulted => "rating.defaulted",
        Measure::ProcProjects => "proc.registered",
        Measure::ProcAwards => "proc.awarded",
        Measure::ProcContracts => "proc.contract.signed",
        Measure::ProcContractsOnTime => "proc.contract.on_time",
        Measure::ProcYellow | Measure::ProcRed => "card",
        Measure::ComplaintsUpheld => "complaint.upheld",
        Measure::ComplaintsLate => "complaint.late",
    }
}
