//! What a run produced: events by type, and how many cases show each variation and each
//! irregularity, so that tests and a reference model can check the engine against the
//! generator's own account.
//!
//! Counts are taken from the events actually written: a variation planned for a case that was
//! withdrawn before it happened is not counted.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::procurement::ProjectCounts;

/// Marks on planned events; a case counts once per mark, whichever of its events carry it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark;

impl Mark {
    pub(crate) const CORRECTION_TIMELY: u32 = 1 << 0;
    pub(crate) const LATE_FIRST_ANSWER: u32 = 1 << 1;
    pub(crate) const REPEATED_CORRECTION: u32 = 1 << 2;
    pub(crate) const ACCEPTED_INCOMPLETE: u32 = 1 << 3;
    pub(crate) const REJECTED: u32 = 1 << 4;
    pub(crate) const WITHDRAWN: u32 = 1 << 5;
    pub(crate) const LATE_CONCLUSION: u32 = 1 << 6;
    pub(crate) const STATUTORY_OVERRUN: u32 = 1 << 7;
    pub(crate) const LAWFUL_SUSPENSION: u32 = 1 << 8;
    pub(crate) const UNLAWFUL_SUSPENSION: u32 = 1 << 9;
    pub(crate) const LAWFUL_EXTENSION: u32 = 1 << 10;
    pub(crate) const EXCESSIVE_EXTENSION: u32 = 1 << 11;
    pub(crate) const SKIPPED_STEP: u32 = 1 << 12;
    pub(crate) const WRONG_FEE: u32 = 1 << 13;
    pub(crate) const NO_DECISION: u32 = 1 << 14;
    pub(crate) const DENIED: u32 = 1 << 15;
    pub(crate) const RATED: u32 = 1 << 16;
    pub(crate) const BAD_RATING: u32 = 1 << 17;
    pub(crate) const COMPLAINT: u32 = 1 << 18;
    pub(crate) const CONCLUDED: u32 = 1 << 19;
    pub(crate) const ACCEPTED: u32 = 1 << 20;
    pub(crate) const BACKDATED: u32 = 1 << 21;
    pub(crate) const ACCEPTANCE_LATE: u32 = 1 << 22;
    pub(crate) const LIMITS_OVERRIDDEN: u32 = 1 << 23;
    pub(crate) const UNKNOWN_ITEM: u32 = 1 << 24;
    pub(crate) const NO_ACCEPTANCE: u32 = 1 << 25;
    pub(crate) const OVERLONG_SUSPENSION: u32 = 1 << 26;
    pub(crate) const AFTER_CONCLUSION: u32 = 1 << 27;
    pub(crate) const BACKDATED_CONCLUSION: u32 = 1 << 28;
}

/// Cases showing each variation or irregularity. Each field counts cases, not events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaseCounts {
    /// Accepted (受理), whatever happened next.
    pub accepted: u64,
    /// Concluded (办结).
    pub concluded: u64,
    /// A first correction request within 5 working days of submission (lawful; a second
    /// request is counted under `repeated_corrections` as well).
    pub corrections_timely: u64,
    /// First answer more than 5 working days after submission (`intake.correction.late`);
    /// such a case counts as accepted on its submission date.
    pub late_first_answers: u64,
    /// A second correction request (`intake.correction.repeated`).
    pub repeated_corrections: u64,
    /// Accepted with required materials missing (`intake.materials.incomplete`).
    pub accepted_incomplete: u64,
    /// Refused at intake (不予受理).
    pub rejections_at_intake: u64,
    /// Withdrawn by the applicant.
    pub withdrawals: u64,
    /// Concluded after the promised due date, within the statutory one. Includes cases made
    /// late by a late first answer or a late answer to the supplements (deemed acceptance),
    /// or by a conclusion entered days later, not only those planned late. Limits and
    /// conclusions are judged by rules v2: only lawful suspensions stop the clock, only a
    /// lawful extension adds days (one beyond the cap adds the cap), a back-dated conclusion
    /// counts at the date it was entered.
    pub late_conclusions: u64,
    /// Concluded after the statutory due date.
    pub statutory_overruns: u64,
    /// Suspended for an Art. 45 reason with a notice.
    pub lawful_suspensions: u64,
    /// Suspended for another reason or without a notice (`suspension.unlawful`).
    pub unlawful_suspensions: u64,
    /// One approved extension within the item's cap before the due date, and no excessive
    /// one.
    pub lawful_extensions: u64,
    /// An extension beyond the item's cap, a second one, one without an approver, or one
    /// after the promised due date (`extension.excessive`).
    pub excessive_extensions: u64,
    /// A step skipped or steps out of order (`procedure.step.skipped`).
    pub skipped_steps: u64,
    /// A charge differing from the item's fee standard (`fee.mismatch`).
    pub wrong_fees: u64,
    /// Concluded without a decision (`procedure.no_decision`).
    pub no_decisions: u64,
    /// Decided with a denial (lawful).
    pub denials: u64,
    /// Rated by the applicant.
    pub rated: u64,
    /// Rated 1 or 2 (`rating.bad`).
    pub bad_ratings: u64,
    /// Drew a complaint.
    pub complaints: u64,
    /// Had events entered days after they occurred (体外循环).
    pub backdated: u64,
    /// Answered more than 5 working days after the last supplement, following a timely
    /// correction request (`intake.acceptance.late`).
    pub late_supplement_answers: u64,
    /// Accepted asking for a longer limit than the item's (`intake.limits.overridden`).
    pub limits_overridden: u64,
    /// Filed for an item the catalog does not define (`intake.item.unknown`); such a case has
    /// no due dates and is never late.
    pub unknown_items: u64,
    /// Concluded without ever being accepted (`procedure.no_acceptance`).
    pub no_acceptances: u64,
    /// A lawful suspension resumed after the working days its notice told
    /// (`suspension.overlong`).
    pub overlong_suspensions: u64,
    /// A case event other than a rating or complaint after the case ended
    /// (`procedure.after_conclusion`).
    pub after_conclusion: u64,
    /// The conclusion entered more than 48 hours after it occurred (`data.backdated`, and the
    /// case judged at the entry date).
    pub backdated_conclusions: u64,
}

impl CaseCounts {
    /// Adds one case with the union of its events' marks.
    pub(crate) fn add_case(&mut self, marks: u32) {
        let table: [(u32, &mut u64); 29] = [
            (Mark::ACCEPTED, &mut self.accepted),
            (Mark::CONCLUDED, &mut self.concluded),
            (Mark::CORRECTION_TIMELY, &mut self.corrections_timely),
            (Mark::LATE_FIRST_ANSWER, &mut self.late_first_answers),
            (Mark::REPEATED_CORRECTION, &mut self.repeated_corrections),
            (Mark::ACCEPTED_INCOMPLETE, &mut self.accepted_incomplete),
            (Mark::REJECTED, &mut self.rejections_at_intake),
            (Mark::WITHDRAWN, &mut self.withdrawals),
            (Mark::LATE_CONCLUSION, &mut self.late_conclusions),
            (Mark::STATUTORY_OVERRUN, &mut self.statutory_overruns),
            (Mark::LAWFUL_SUSPENSION, &mut self.lawful_suspensions),
            (Mark::UNLAWFUL_SUSPENSION, &mut self.unlawful_suspensions),
            (Mark::LAWFUL_EXTENSION, &mut self.lawful_extensions),
            (Mark::EXCESSIVE_EXTENSION, &mut self.excessive_extensions),
            (Mark::SKIPPED_STEP, &mut self.skipped_steps),
            (Mark::WRONG_FEE, &mut self.wrong_fees),
            (Mark::NO_DECISION, &mut self.no_decisions),
            (Mark::DENIED, &mut self.denials),
            (Mark::RATED, &mut self.rated),
            (Mark::BAD_RATING, &mut self.bad_ratings),
            (Mark::COMPLAINT, &mut self.complaints),
            (Mark::BACKDATED, &mut self.backdated),
            (Mark::ACCEPTANCE_LATE, &mut self.late_supplement_answers),
            (Mark::LIMITS_OVERRIDDEN, &mut self.limits_overridden),
            (Mark::UNKNOWN_ITEM, &mut self.unknown_items),
            (Mark::NO_ACCEPTANCE, &mut self.no_acceptances),
            (Mark::OVERLONG_SUSPENSION, &mut self.overlong_suspensions),
            (Mark::AFTER_CONCLUSION, &mut self.after_conclusion),
            (Mark::BACKDATED_CONCLUSION, &mut self.backdated_conclusions),
        ];
        // An excessive extension case is not also a lawful-extension case.
        let marks = if marks & Mark::EXCESSIVE_EXTENSION != 0 {
            marks & !Mark::LAWFUL_EXTENSION
        } else {
            marks
        };
        for (bit, count) in table {
            if marks & bit != 0 {
                *count += 1;
            }
        }
    }
}

/// The account of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimSummary {
    /// Events written, catalog included.
    pub events: u64,
    /// Cases generated.
    pub cases: u64,
    /// `ItemDefined` events in the catalog.
    pub items: u64,
    /// Events by type name.
    pub events_by_type: BTreeMap<&'static str, u64>,
    /// Cases by variation and irregularity.
    pub cases_with: CaseCounts,
    /// Events entered at least one day after they occurred.
    pub backdated_events: u64,
    /// Procurement projects by method and the violations injected, by rule code (left out
    /// of the JSON when the run has no projects).
    #[serde(skip_serializing_if = "ProjectCounts::is_empty")]
    pub procurement: ProjectCounts,
}
