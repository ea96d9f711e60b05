//! A case's planned events, in the compact form the generator keeps while they wait to be
//! written: indices and small integers instead of strings, so that thousands of cases in
//! flight cost little memory and writing them costs no allocation.

use jiancha_events::{Channel, RatingVerdict};

use crate::days::Instant;
use crate::district::OrgId;

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    /// The applicant: `citizen`.
    Citizen,
    /// The catalog's keeper: `admin-1`.
    Admin,
    /// A window clerk: `clerk-N`.
    Clerk(u32),
    /// A village point's agent: `agent-N`.
    Agent(u32),
    /// A department head: `head-NN`.
    Head(u32),
    /// An inspector of the district supervision bureau: `inspector-N`.
    Inspector(u32),
    /// A member of the service center's staff: `staff-N`.
    Staff(u32),
}

/// Why a case moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransferReason {
    /// A village point forwards what its agent filed.
    Agent,
    /// A town center forwards what it accepted to the district department.
    Town,
}

/// What happened, with indices into the item, the district or the word tables of `names`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    Submitted {
        channel: Channel,
        materials: u8,
    },
    CorrectionRequested {
        missing: u8,
    },
    MaterialsSupplemented {
        materials: u8,
    },
    /// Limits asked for beyond the item's (`intake.limits.overridden`): working days added to
    /// the item's promised and statutory limits, 0 for none asked.
    Accepted {
        promised_extra: u8,
        statutory_extra: u8,
    },
    RejectedAtIntake {
        reason: u8,
    },
    Transferred {
        to: OrgId,
        reason: TransferReason,
    },
    StepCompleted {
        step: u8,
    },
    /// `reason` indexes the lawful list, then the unlawful one; `notice_days` 0 is no notice.
    /// A notice tells the working days needed, and the event's `expected_days` says the same.
    Suspended {
        reason: u8,
        notice_days: u8,
    },
    Resumed,
    /// `approved` false: `approved_by` is empty.
    Extended {
        days: u8,
        reason: u8,
        approved: bool,
    },
    FeeCharged {
        amount_cents: u64,
    },
    Decided {
        approved: bool,
    },
    Concluded,
    Withdrawn {
        reason: u8,
    },
    Rated {
        score: u8,
    },
    Complained {
        category: u8,
    },
    // The supervision workflow's acts, on the `supervision` stream. `card` indexes
    // `supervise::CARD_RULES` (the card is always the case's first of its rule).
    AlertAcknowledged {
        card: u8,
    },
    CorrectionOrdered {
        card: u8,
        days: u8,
    },
    CorrectionCompleted {
        card: u8,
    },
    CorrectionVerified {
        card: u8,
        accepted: bool,
    },
    RatingVerified {
        verdict: RatingVerdict,
    },
    RatingRectified,
    RatingCallback {
        score: u8,
    },
    /// Routed to `to`.
    ComplaintAccepted {
        to: OrgId,
    },
    ComplaintRejected {
        reason: u8,
    },
    ComplaintAnswered {
        upheld: bool,
    },
}

impl Payload {
    /// The event type's place in the summary's counters (`sequencer::TYPE_NAMES`; 0 is the
    /// catalog's `ItemDefined`).
    pub(crate) fn type_index(&self) -> usize {
        match self {
            Payload::Submitted { .. } => 1,
            Payload::CorrectionRequested { .. } => 2,
            Payload::MaterialsSupplemented { .. } => 3,
            Payload::Accepted { .. } => 4,
            Payload::RejectedAtIntake { .. } => 5,
            Payload::Transferred { .. } => 6,
            Payload::StepCompleted { .. } => 7,
            Payload::Suspended { .. } => 8,
            Payload::Resumed => 9,
            Payload::Extended { .. } => 10,
            Payload::FeeCharged { .. } => 11,
            Payload::Decided { .. } => 12,
            Payload::Concluded => 13,
            Payload::Withdrawn { .. } => 14,
            Payload::Rated { .. } => 15,
            Payload::Complained { .. } => 16,
            Payload::AlertAcknowledged { .. } => 17,
            Payload::CorrectionOrdered { .. } => 18,
            Payload::CorrectionCompleted { .. } => 19,
            Payload::CorrectionVerified { .. } => 20,
            Payload::RatingVerified { .. } => 21,
            Payload::RatingRectified => 22,
            Payload::RatingCallback { .. } => 23,
            Payload::ComplaintAccepted { .. } => 24,
            Payload::ComplaintRejected { .. } => 25,
            Payload::ComplaintAnswered { .. } => 26,
        }
    }

    /// The event type's name.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Payload::Submitted { .. } => "Submitted",
            Payload::CorrectionRequested { .. } => "CorrectionRequested",
            Payload::MaterialsSupplemented { .. } => "MaterialsSupplemented",
            Payload::Accepted { .. } => "Accepted",
            Payload::RejectedAtIntake { .. } => "RejectedAtIntake",
            Payload::Transferred { .. } => "Transferred",
            Payload::StepCompleted { .. } => "StepCompleted",
            Payload::Suspended { .. } => "Suspended",
            Payload::Resumed => "Resumed",
            Payload::Extended { .. } => "Extended",
            Payload::FeeCharged { .. } => "FeeCharged",
            Payload::Decided { .. } => "Decided",
            Payload::Concluded => "Concluded",
            Payload::Withdrawn { .. } => "Withdrawn",
            Payload::Rated { .. } => "Rated",
            Payload::Complained { .. } => "Complained",
            Payload::AlertAcknowledged { .. } => "AlertAcknowledged",
            Payload::CorrectionOrdered { .. } => "CorrectionOrdered",
            Payload::CorrectionCompleted { .. } => "CorrectionCompleted",
            Payload::CorrectionVerified { .. } => "CorrectionVerified",
            Payload::RatingVerified { .. } => "RatingVerified",
            Payload::RatingRectified => "RatingRectified",
            Payload::RatingCallback { .. } => "RatingCallback",
            Payload::ComplaintAccepted { .. } => "ComplaintAccepted",
            Payload::ComplaintRejected { .. } => "ComplaintRejected",
            Payload::ComplaintAnswered { .. } => "ComplaintAnswered",
        }
    }

    /// Whether the event goes on the `supervision` stream rather than the case's.
    pub(crate) fn is_supervision(&self) -> bool {
        self.type_index() > 16
    }
}

/// An event before it has a time of day: its working-day offset from the submission day.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draft {
    /// Working days after the submission day (0: the submission day itself).
    pub(crate) offset: u32,
    pub(crate) actor: Actor,
    pub(crate) org: OrgId,
    pub(crate) payload: Payload,
    /// The irregularities and variations this event shows (see `summary::Mark`).
    pub(crate) marks: u32,
}

/// An event ready to be written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planned {
    /// Business time.
    pub(crate) occurred: Instant,
    /// When it is entered into the system: `occurred`, or later for a back-dated entry.
    pub(crate) entered: Instant,
    pub(crate) actor: Actor,
    pub(crate) org: OrgId,
    pub(crate) payload: Payload,
    /// The event's version on its stream: on the case's stream, or for a supervision act its
    /// place among the case's acts (which names it: `sim-<seed>-supervision-<case>-<n>`).
    pub(crate) version: u32,
}

/// One case's stream, in order.
#[derive(Debug, Default)]
pub(crate) struct CasePlan {
    /// The case's place in arrival order, from 0.
    pub(crate) ordinal: u64,
    /// The submission year and the case's number within it: `case-YYYY-NNNNNN`.
    pub(crate) year: i32,
    pub(crate) number: u64,
    /// Index into the catalog.
    pub(crate) item: u32,
    /// The application names, instead of the item's code, one the catalog does not define.
    pub(crate) unknown_item: bool,
    /// The deciding department's head, who also approves extensions.
    pub(crate) head: u32,
    pub(crate) events: Vec<Planned>,
}
