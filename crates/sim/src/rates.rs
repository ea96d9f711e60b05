//! How often each lawful variation and each irregularity happens: the [`Rates`] of a run, read
//! from JSON (a partial file overrides only the rates it names).
//!
//! Every rate is a probability per case that reaches the stage where the event could happen:
//! intake rates per submitted case, processing rates per accepted case, rating rates per
//! concluded case; the rates of rules v2's irregularities and of the supervision workflow
//! (预警纠错: acknowledgements, correction orders, the handling of bad ratings and complaints)
//! say in their own documentation which cards, ratings or complaints they apply to. Four
//! rates are exclusive fates of a case (rejected at intake, withdrawn, concluded late,
//! concluded past the statutory limit), so together they may not exceed 1. The `proc_*` rates
//! are the procurement projects' violations, one per monitoring point, per project where the
//! violation can happen.

use serde::{Deserialize, Serialize};

use crate::SimError;

/// How many rates there are.
pub const RATES: usize = 60;

/// The rates of a run. Field names are the JSON keys of a rates file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rates {
    /// One timely correction request (补正告知) before acceptance: lawful, common.
    pub correction: f64,
    /// The first answer (correction request, acceptance or rejection) comes more than 5
    /// working days after submission: the case counts as accepted on the submission date.
    pub late_first_answer: f64,
    /// A second correction request (the one-time notice broken).
    pub repeated_correction: f64,
    /// Accepted although required materials are missing, without a correction request.
    pub accepted_incomplete: f64,
    /// Fate: refused at intake (不予受理), never accepted.
    pub rejected_at_intake: f64,
    /// Fate: withdrawn by the applicant at some point before conclusion.
    pub withdrawn: f64,
    /// Fate: concluded after the promised due date but within the statutory one.
    pub late_conclusion: f64,
    /// Fate: concluded after the statutory due date.
    pub statutory_overrun: f64,
    /// A suspension for an Art. 45 reason with a written notice.
    pub lawful_suspension: f64,
    /// A suspension for another reason, or without a notice.
    pub unlawful_suspension: f64,
    /// One extension of at most 10 working days, approved before the due date: lawful.
    pub extension: f64,
    /// An excessive extension (`extension.excessive`), one of four kinds in equal shares: beyond
    /// the item's cap, a second one, one without an approver, or one after the promised due
    /// date.
    pub excessive_extension: f64,
    /// A step of the item's procedure skipped, or two steps done out of order.
    pub skipped_step: f64,
    /// A charged amount that differs from the item's fee standard.
    pub wrong_fee: f64,
    /// Concluded without a decision.
    pub no_decision: f64,
    /// The decision is a denial (lawful).
    pub denied: f64,
    /// A concluded case is rated (好差评) by the applicant.
    pub rated: f64,
    /// A concluded case is rated 1 or 2 (差评); such cases are always rated.
    pub bad_rating: f64,
    /// A concluded or rejected case draws a complaint (投诉).
    pub complaint: f64,
    /// Some of the case's events are entered days after they happened (体外循环).
    pub backdated: f64,
    /// Per case with a timely correction request: the answer to the supplements comes more
    /// than 5 working days after the last of them (`intake.acceptance.late`; an acceptance
    /// then counts from the supplement date).
    pub late_supplement_answer: f64,
    /// Per accepted case: the acceptance asks for longer limits than the item's
    /// (`intake.limits.overridden`).
    pub limits_override: f64,
    /// Per case: the application names an item the catalog does not define
    /// (`intake.item.unknown`).
    pub unknown_item: f64,
    /// Per case that goes on to a conclusion: it is handled and concluded without ever being
    /// accepted (`procedure.no_acceptance`).
    pub no_acceptance: f64,
    /// Per lawful suspension: it lasts longer than the working days the notice told the
    /// applicant (`suspension.overlong`).
    pub overlong_suspension: f64,
    /// Per ended case (concluded, withdrawn or refused): a case event is recorded after the
    /// end (`procedure.after_conclusion`).
    pub after_conclusion: f64,
    /// Per concluded case: the conclusion is entered 3 to 6 working days after it happened,
    /// so it counts at the date it was entered (`data.backdated`).
    pub backdated_conclusion: f64,
    /// Per red card the case's events raise (`deadline.promised.overdue` and the other red rules
    /// of a case): its unit acknowledges it 2 to 4 working days after it was raised, not within
    /// one (`supervision.unacknowledged`).
    pub late_acknowledgement: f64,
    /// Per red card: the supervision bureau orders a correction (纠错督办), allowing 3 to 5
    /// working days; a deadline card only while it is open (before the case leaves the clock).
    pub correction_order: f64,
    /// Per correction order: the unit reports back (回告) 1 to 3 working days after the order's days
    /// ran out (`supervision.correction.overdue`).
    pub late_report_back: f64,
    /// Per correction order: the unit never reports back (`supervision.correction.overdue`, then
    /// `supervision.escalated`). With `late_report_back`, an exclusive fate of the order.
    pub no_report_back: f64,
    /// Per report-back: the supervisor rejects it on verification (核查), and the unit reports back
    /// again; the third is always accepted.
    pub report_back_rejected: f64,
    /// Per counted bad rating: the service center verifies it 2 to 4 working days later, not
    /// within one (`rating.unverified`).
    pub late_rating_verification: f64,
    /// Per verified bad rating: the center finds it valid (属实) and the unit must rectify it; the
    /// others are found mistaken or malicious in equal shares.
    pub bad_rating_valid: f64,
    /// Per valid bad rating: the unit reports it rectified 6 to 8 working days after the verdict,
    /// not within 5 (`rating.rectification.overdue`).
    pub late_rectification: f64,
    /// Per rectified bad rating: the call-back (回访) finds the applicant satisfied (4 or 5; else 1
    /// to 3).
    pub callback_satisfied: f64,
    /// Per rated case: the applicant rates it a second time (`rating.duplicate`; the ledger counts
    /// the first).
    pub duplicate_rating: f64,
    /// Per complaint: it is not accepted (不予受理).
    pub complaint_rejected: f64,
    /// Per complaint: accepted or rejected 6 to 8 working days after it came, not within 5
    /// (`complaint.acceptance.late`).
    pub late_complaint_acceptance: f64,
    /// Per accepted complaint: answered 11 to 13 working days after its acceptance, not within 10
    /// (`complaint.reply.late`).
    pub late_complaint_answer: f64,
    /// Per answered complaint: it is upheld (属实).
    pub complaint_upheld: f64,
    /// Per procurement project: the bid or response window shorter than its method's minimum, where it has one (not a single source under the threshold) and a working day comes before its minimum (documents issued just before a long holiday may leave none) (`proc.window.short`).
    pub proc_window_short: f64,
    /// Per procurement project: documents on sale for 2 or 3 days (`proc.sale.short`).
    pub proc_sale_short: f64,
    /// Per procurement project: per tender: a clarification affecting preparation 3 to 10 days before a deadline that does not move (`proc.clarification.late`).
    pub proc_clarification_late: f64,
    /// Per procurement project: per construction tender: an objection answered 5 to 8 days after it was filed (and past the 3rd day however a holiday moves it) (`proc.objection.late`).
    pub proc_objection_late: f64,
    /// Per procurement project: bids opened 20 to 60 minutes after the deadline (`proc.opening.mismatch`).
    pub proc_opening_mismatch: f64,
    /// Per procurement project: per tender: only 2 bidders, and an award all the same (none when the award never comes) (`proc.bidders.few`).
    pub proc_bidders_few: f64,
    /// Per procurement project: per project with a committee: experts designated without approval, a committee of 6, or 3 experts of 5 (`proc.experts.designated`).
    pub proc_experts_designated: f64,
    /// Per procurement project: per government project: the result confirmed 7 to 10 working days after the evaluation report, or never (`proc.confirmation.late`).
    pub proc_confirmation_late: f64,
    /// Per procurement project: per construction project: the candidates publicized for 1 day (`proc.publicity.short`).
    pub proc_publicity_short: f64,
    /// Per procurement project: per government project: the result announced 4 to 6 working days after the confirmation, or never (`proc.result.late`).
    pub proc_result_late: f64,
    /// Per procurement project: per state-funded project: the award to the second-ranked without a reason (`proc.award.not_first`).
    pub proc_award_not_first: f64,
    /// Per procurement project: the contract signed 33 to 40 days after the award notice (and past the 30th day however a holiday moves it), or never (`proc.contract.late`).
    pub proc_contract_late: f64,
    /// Per procurement project: per government project: the contract announced 4 to 6 working days after signing, or never (`proc.contract.unpublished`).
    pub proc_contract_unpublished: f64,
    /// Per procurement project: per government project: the contract filed 9 to 12 working days after signing, or never (`proc.contract.unfiled`).
    pub proc_contract_unfiled: f64,
    /// Per procurement project: the contract 2 to 8% above the award, or two supplements adding more than 10% (`proc.contract.deviation`).
    pub proc_contract_deviation: f64,
    /// Per procurement project: a bid bond of 2.5 to 5% of the budget or a performance bond of 12 to 20% of the contract (`proc.bond.excessive`).
    pub proc_bond_excessive: f64,
    /// Per procurement project: per project drawn: instead, a group of 2 to 4 non-open purchases of one purchaser, category and year, each under the open-tender threshold, together reaching it (`proc.split`, once per group).
    pub proc_split: f64,
    /// Per procurement project: per government project: an enquiry answered 9 to 12 working days after it was filed, or never (`proc.enquiry.late`).
    pub proc_enquiry_late: f64,
    /// Per procurement project: a complaint decided 32 to 36 working days after it was filed, or never (`proc.complaint.late`).
    pub proc_complaint_late: f64,
}

impl Default for Rates {
    /// Rates of a reasonably well-run district: most cases on time, a few irregularities.
    fn default() -> Self {
        Rates {
            correction: 0.12,
            late_first_answer: 0.01,
            repeated_correction: 0.01,
            accepted_incomplete: 0.005,
            rejected_at_intake: 0.02,
            withdrawn: 0.01,
            late_conclusion: 0.03,
            statutory_overrun: 0.005,
            lawful_suspension: 0.03,
            unlawful_suspension: 0.003,
            extension: 0.02,
            excessive_extension: 0.01,
            skipped_step: 0.003,
            wrong_fee: 0.01,
            no_decision: 0.001,
            denied: 0.03,
            rated: 0.7,
            bad_rating: 0.015,
            complaint: 0.003,
            backdated: 0.005,
            late_supplement_answer: 0.08,
            limits_override: 0.01,
            unknown_item: 0.005,
            no_acceptance: 0.005,
            overlong_suspension: 0.25,
            after_conclusion: 0.01,
            backdated_conclusion: 0.005,
            late_acknowledgement: 0.1,
            correction_order: 0.5,
            late_report_back: 0.1,
            no_report_back: 0.03,
            report_back_rejected: 0.1,
            late_rating_verification: 0.1,
            bad_rating_valid: 0.7,
            late_rectification: 0.15,
            callback_satisfied: 0.8,
            duplicate_rating: 0.02,
            complaint_rejected: 0.15,
            late_complaint_acceptance: 0.1,
            late_complaint_answer: 0.1,
            complaint_upheld: 0.4,
            proc_window_short: 0.02,
            proc_sale_short: 0.02,
            proc_clarification_late: 0.03,
            proc_objection_late: 0.03,
            proc_opening_mismatch: 0.01,
            proc_bidders_few: 0.02,
            proc_experts_designated: 0.02,
            proc_confirmation_late: 0.02,
            proc_publicity_short: 0.03,
            proc_result_late: 0.02,
            proc_award_not_first: 0.01,
            proc_contract_late: 0.02,
            proc_contract_unpublished: 0.03,
            proc_contract_unfiled: 0.03,
            proc_contract_deviation: 0.02,
            proc_bond_excessive: 0.02,
            proc_split: 0.02,
            proc_enquiry_late: 0.02,
            proc_complaint_late: 0.01,
        }
    }
}

impl Rates {
    /// Every rate set to zero: a district without irregularities, corrections, denials,
    /// ratings or complaints (useful as a base for tests that switch on one rate).
    pub fn zero() -> Rates {
        let mut rates = Rates::default();
        for (_, rate) in rates.fields_mut() {
            *rate = 0.0;
        }
        rates
    }

    /// Reads a rates file's text: a JSON object whose keys are field names. Rates it does not
    /// name keep their defaults. Errors name the field.
    pub fn from_json(text: &str) -> Result<Rates, SimError> {
        // serde would also read a struct from an array; a rates file is an object by name.
        if !text.trim_start().starts_with('{') {
            return Err(SimError::Rates {
                field: "json".to_owned(),
                message: "a rates file is one JSON object, e.g. {\"late_conclusion\": 0.05}"
                    .to_owned(),
            });
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let rates: Rates = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if inner.is_syntax() || inner.is_eof() || path == "." {
                unknown_field_name(&inner.to_string()).unwrap_or_else(|| "json".to_owned())
            } else {
                path
            };
            SimError::Rates {
                field,
                message: inner.to_string(),
            }
        })?;
        de.end().map_err(|e| SimError::Rates {
            field: "json".to_owned(),
            message: format!("trailing characters: {e}"),
        })?;
        rates.validate()?;
        Ok(rates)
    }

    /// Checks that every rate is a probability and that the exclusive fates fit in one case.
    pub fn validate(&self) -> Result<(), SimError> {
        for (name, rate) in self.fields() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SimError::Rates {
                    field: name.to_owned(),
                    message: format!("must be a probability from 0 to 1, got {rate}"),
                });
            }
        }
        let fates = self.rejected_at_intake
            + self.withdrawn
            + self.late_conclusion
            + self.statutory_overrun;
        if fates > 1.0 {
            return Err(SimError::Rates {
                field: "rejected_at_intake".to_owned(),
                message: format!(
                    "rejected_at_intake + withdrawn + late_conclusion + statutory_overrun are \
                     exclusive fates of a case and must not add up to more than 1, got {fates}"
                ),
            });
        }
        let report_back = self.late_report_back + self.no_report_back;
        if report_back > 1.0 {
            return Err(SimError::Rates {
                field: "late_report_back".to_owned(),
                message: format!(
                    "late_report_back + no_report_back are exclusive fates of a correction order \
                     and must not add up to more than 1, got {report_back}"
                ),
            });
        }
        Ok(())
    }

    /// Every rate with its JSON name, in declaration order.
    pub fn fields(&self) -> [(&'static str, f64); RATES] {
        let mut copy = self.clone();
        copy.fields_mut().map(|(name, rate)| (name, *rate))
    }

    /// Every rate with its JSON name, in declaration order, for changing them in a loop.
    pub fn fields_mut(&mut self) -> [(&'static str, &mut f64); RATES] {
        [
            ("correction", &mut self.correction),
            ("late_first_answer", &mut self.late_first_answer),
            ("repeated_correction", &mut self.repeated_correction),
            ("accepted_incomplete", &mut self.accepted_incomplete),
            ("rejected_at_intake", &mut self.rejected_at_intake),
            ("withdrawn", &mut self.withdrawn),
            ("late_conclusion", &mut self.late_conclusion),
            ("statutory_overrun", &mut self.statutory_overrun),
            ("lawful_suspension", &mut self.lawful_suspension),
            ("unlawful_suspension", &mut self.unlawful_suspension),
            ("extension", &mut self.extension),
            ("excessive_extension", &mut self.excessive_extension),
            ("skipped_step", &mut self.skipped_step),
            ("wrong_fee", &mut self.wrong_fee),
            ("no_decision", &mut self.no_decision),
            ("denied", &mut self.denied),
            ("rated", &mut self.rated),
            ("bad_rating", &mut self.bad_rating),
            ("complaint", &mut self.complaint),
            ("backdated", &mut self.backdated),
            ("late_supplement_answer", &mut self.late_supplement_answer),
            ("limits_override", &mut self.limits_override),
            ("unknown_item", &mut self.unknown_item),
            ("no_acceptance", &mut self.no_acceptance),
            ("overlong_suspension", &mut self.overlong_suspension),
            ("after_conclusion", &mut self.after_conclusion),
            ("backdated_conclusion", &mut self.backdated_conclusion),
            ("late_acknowledgement", &mut self.late_acknowledgement),
            ("correction_order", &mut self.correction_order),
            ("late_report_back", &mut self.late_report_back),
            ("no_report_back", &mut self.no_report_back),
            ("report_back_rejected", &mut self.report_back_rejected),
            (
                "late_rating_verification",
                &mut self.late_rating_verification,
            ),
            ("bad_rating_valid", &mut self.bad_rating_valid),
            ("late_rectification", &mut self.late_rectification),
            ("callback_satisfied", &mut self.callback_satisfied),
            ("duplicate_rating", &mut self.duplicate_rating),
            ("complaint_rejected", &mut self.complaint_rejected),
            (
                "late_complaint_acceptance",
                &mut self.late_complaint_acceptance,
            ),
            ("late_complaint_answer", &mut self.late_complaint_answer),
            ("complaint_upheld", &mut self.complaint_upheld),
            ("proc_window_short", &mut self.proc_window_short),
            ("proc_sale_short", &mut self.proc_sale_short),
            ("proc_clarification_late", &mut self.proc_clarification_late),
            ("proc_objection_late", &mut self.proc_objection_late),
            ("proc_opening_mismatch", &mut self.proc_opening_mismatch),
            ("proc_bidders_few", &mut self.proc_bidders_few),
            ("proc_experts_designated", &mut self.proc_experts_designated),
            ("proc_confirmation_late", &mut self.proc_confirmation_late),
            ("proc_publicity_short", &mut self.proc_publicity_short),
            ("proc_result_late", &mut self.proc_result_late),
            ("proc_award_not_first", &mut self.proc_award_not_first),
            ("proc_contract_late", &mut self.proc_contract_late),
            (
                "proc_contract_unpublished",
                &mut self.proc_contract_unpublished,
            ),
            ("proc_contract_unfiled", &mut self.proc_contract_unfiled),
            ("proc_contract_deviation", &mut self.proc_contract_deviation),
            ("proc_bond_excessive", &mut self.proc_bond_excessive),
            ("proc_split", &mut self.proc_split),
            ("proc_enquiry_late", &mut self.proc_enquiry_late),
            ("proc_complaint_late", &mut self.proc_complaint_late),
        ]
    }
}

/// serde reports an unknown field at the object's path; the field's own name is in the text.
fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(text: &str) -> String {
        match Rates::from_json(text) {
            Err(SimError::Rates { field, .. }) => field,
            other => panic!("expected a rates error, got {other:?}"),
        }
    }

    #[test]
    fn partial_files_override_only_what_they_name() {
        let rates = Rates::from_json(r#"{"late_conclusion": 0.2}"#).unwrap();
        assert_eq!(rates.late_conclusion, 0.2);
        assert_eq!(rates.correction, Rates::default().correction);
        assert_eq!(Rates::from_json("{}").unwrap(), Rates::default());
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of(r#"{"late_conclusoin": 0.2}"#), "late_conclusoin");
        assert_eq!(field_of(r#"{"withdrawn": "often"}"#), "withdrawn");
        assert_eq!(field_of(r#"{"complaint": 1.5}"#), "complaint");
        assert_eq!(field_of(r#"{"complaint": -0.1}"#), "complaint");
        assert_eq!(field_of(r#"{"complaint": 0.1"#), "json");
        assert_eq!(field_of("[]"), "json");
        assert_eq!(
            field_of(r#"{"withdrawn": 0.5, "late_conclusion": 0.6}"#),
            "rejected_at_intake"
        );
    }

    #[test]
    fn zero_rates_are_all_zero_and_valid() {
        let zero = Rates::zero();
        assert!(zero.fields().iter().all(|&(_, r)| r == 0.0));
        assert!(zero.validate().is_ok());
        let json = serde_json::to_string(&Rates::default()).unwrap();
        assert_eq!(Rates::from_json(&json).unwrap(), Rates::default());
    }
}
