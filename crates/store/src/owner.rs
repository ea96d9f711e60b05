//! Who answers for a case, decided inside the writer's transaction: the rule a scoped append
//! (a unit's or the center's) is held to, so that no token can write to a case its org does not
//! handle however appends race.
//!
//! The accountable org is the case fold's (`CaseState::org` in the projections): the target of
//! the last transfer after acceptance, else the accepting org, else — for a case concluded
//! without ever being accepted — the concluding org, else the submitting org. Only an
//! acceptance that answers a still-pending submission counts (a case refused at intake or
//! withdrawn before it was accepted keeps its submitter); a transfer before acceptance moves the
//! case until an acceptance takes it; once the case has ended, nothing moves it. The store folds this from the few
//! events that move it ([`OWNER_TYPES`]), read in the same transaction as the append; nothing
//! else is kept, so the rule needs no table of its own and no migration of existing logs.

use jiancha_events::stream::org_is_under;
use jiancha_events::EventData;

/// The event types that can move a case's accountable org; the others leave it alone.
pub const OWNER_TYPES: [&str; 7] = [
    "Submitted",
    "ProcurementRegistered",
    "Accepted",
    "RejectedAtIntake",
    "Concluded",
    "Withdrawn",
    "Transferred",
];

/// The accountable org of one case, as its events so far establish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOwner {
    submitted: String,
    accepted: Option<String>,
    transferred: Option<String>,
    /// The org that concluded a case never accepted.
    concluded: Option<String>,
    /// Whether the submission was answered (accepted, refused) or the case ended before: a
    /// later `Accepted` no longer takes the case.
    answered: bool,
    /// Whether the case ended (concluded, withdrawn, refused): events after it move nothing.
    ended: bool,
}

/// What one event does to a case's accountable org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerMove<'a> {
    /// An acceptance by this org.
    Accepted(&'a str),
    /// A transfer to this org.
    Transferred(&'a str),
    /// The case ended by a refusal or a withdrawal.
    Answered,
    /// The case was concluded by this org.
    Concluded(&'a str),
    /// Nothing that matters here.
    None,
}

impl<'a> OwnerMove<'a> {
    /// The move of a typed event written by `org`.
    pub fn of(data: &'a EventData, org: &'a str) -> Self {
        match data {
            EventData::Accepted(_) => OwnerMove::Accepted(org),
            EventData::Transferred(t) => OwnerMove::Transferred(&t.to_org),
            EventData::Concluded(_) => OwnerMove::Concluded(org),
            EventData::RejectedAtIntake(_) | EventData::Withdrawn(_) => OwnerMove::Answered,
            _ => OwnerMove::None,
        }
    }
}

impl CaseOwner {
    /// The owner a case's (or project's) opening event gives it: the submitting org of a
    /// `Submitted`, the purchaser of a `ProcurementRegistered`.
    pub fn opened_by(data: &EventData, org: &str) -> Option<Self> {
        match data {
            EventData::Submitted(_) => Some(CaseOwner::submitted_by(org)),
            EventData::ProcurementRegistered(p) => Some(CaseOwner::submitted_by(&p.purchaser_org)),
            _ => None,
        }
    }

    /// A case just submitted by `org`.
    pub fn submitted_by(org: &str) -> Self {
        CaseOwner {
            submitted: org.to_owned(),
            accepted: None,
            transferred: None,
            concluded: None,
            answered: false,
            ended: false,
        }
    }

    /// The org that answers for the case now.
    pub fn accountable(&self) -> &str {
        self.transferred
            .as_deref()
            .or(self.accepted.as_deref())
            .or(self.concluded.as_deref())
            .unwrap_or(&self.submitted)
    }

    /// Whether the case is handled at or under `scope` (segment-wise).
    pub fn within(&self, scope: &str) -> bool {
        org_is_under(self.accountable(), scope)
    }

    /// Takes in one later event of the case.
    pub fn apply(&mut self, step: OwnerMove<'_>) {
        if self.ended {
            return;
        }
        match step {
            OwnerMove::Accepted(org) if !self.answered => {
                self.accepted = Some(org.to_owned());
                // Only transfers after acceptance move the accountability.
                self.transferred = None;
                self.answered = true;
            }
            OwnerMove::Transferred(to) => self.transferred = Some(to.to_owned()),
            OwnerMove::Answered => {
                self.answered = true;
                self.ended = true;
            }
            OwnerMove::Concluded(org) => {
                // A case concluded without an acceptance answers to the concluding org.
                if self.accepted.is_none() {
                    self.concluded = Some(org.to_owned());
                    self.transferred = None;
                }
                self.answered = true;
                self.ended = true;
            }
            OwnerMove::Accepted(_) | OwnerMove::None => {}
        }
    }

    /// Folds one case's stored rows (`type`, `org`, `data`, in version order, as selected by
    /// [`OWNER_TYPES`]); `None` when the first is not its submission.
    pub fn fold_rows<'r>(
        mut rows: impl Iterator<Item = (&'r str, &'r str, &'r str)>,
    ) -> Option<Self> {
        let (first, org, data) = rows.next()?;
        let mut owner = match first {
            "Submitted" => CaseOwner::submitted_by(org),
            // A procurement project answers to its purchaser for good.
            "ProcurementRegistered" => CaseOwner::submitted_by(&field_of(data, "purchaser_org")),
            _ => return None,
        };
        for (event_type, org, data) in rows {
            let to;
            let step = match event_type {
                "Accepted" => OwnerMove::Accepted(org),
                "Transferred" => {
                    to = transfer_target(data);
                    OwnerMove::Transferred(&to)
                }
                "Concluded" => OwnerMove::Concluded(org),
                "RejectedAtIntake" | "Withdrawn" => OwnerMove::Answered,
                _ => OwnerMove::None,
            };
            owner.apply(step);
        }
        Some(owner)
    }
}

/// The `to_org` of a stored `Transferred`; an empty org (which no scope covers) when the data
/// cannot be read, so a damaged row locks scoped writers out rather than in.
fn transfer_target(data: &str) -> String {
    field_of(data, "to_org")
}

/// A text field of a stored event's data; empty (which no scope covers) when it cannot be read.
fn field_of(data: &str, field: &str) -> String {
    serde_json::from_str::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get(field)?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The district of an org path: its first segment (`jiangjin` of `jiangjin/town-07`).
pub fn district(org: &str) -> &str {
    org.split('/').next().unwrap_or(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accountable_org_follows_the_case_fold() {
        let mut o = CaseOwner::submitted_by("d/village-1");
        assert_eq!(o.accountable(), "d/village-1");
        o.apply(OwnerMove::Transferred("d/town-1"));
        assert_eq!(
            o.accountable(),
            "d/town-1",
            "a transfer before acceptance moves it"
        );
        o.apply(OwnerMove::Accepted("d/town-1/window-2"));
        assert_eq!(o.accountable(), "d/town-1/window-2");
        o.apply(OwnerMove::Accepted("d/town-9"));
        assert_eq!(
            o.accountable(),
            "d/town-1/window-2",
            "a second acceptance counts not"
        );
        o.apply(OwnerMove::Transferred("d/center"));
        assert_eq!(o.accountable(), "d/center");
        assert!(o.within("d") && !o.within("d/town-1"));

        let mut refused = CaseOwner::submitted_by("d/town-1");
        refused.apply(OwnerMove::Answered);
        refused.apply(OwnerMove::Accepted("d/town-2"));
        assert_eq!(refused.accountable(), "d/town-1");
        refused.apply(OwnerMove::Transferred("d/town-3"));
        assert_eq!(
            refused.accountable(),
            "d/town-1",
            "nothing moves an ended case"
        );

        let mut unaccepted = CaseOwner::submitted_by("d/town-1/village-2");
        unaccepted.apply(OwnerMove::Transferred("d/town-1"));
        unaccepted.apply(OwnerMove::Concluded("d/town-1/window-1"));
        assert_eq!(
            unaccepted.accountable(),
            "d/town-1/window-1",
            "a case concluded without acceptance answers to the concluding org"
        );
    }

    #[test]
    fn stored_rows_fold_the_same_way() {
        let rows = [
            ("Submitted", "d/town-1", "{}"),
            ("Accepted", "d/town-1/w", "{}"),
            (
                "Transferred",
                "d/town-1/w",
                r#"{"to_org":"d/town-2","reason":"x"}"#,
            ),
        ];
        let o = CaseOwner::fold_rows(rows.iter().copied()).unwrap();
        assert_eq!(o.accountable(), "d/town-2");
        let damaged = [("Submitted", "d/town-1", "{}"), ("Transferred", "d", "{")];
        let o = CaseOwner::fold_rows(damaged.iter().copied()).unwrap();
        assert!(!o.within("d"));
        assert!(CaseOwner::fold_rows([("Accepted", "d", "{}")].into_iter()).is_none());
        assert_eq!(district("jiangjin/town-07"), "jiangjin");
    }
}
