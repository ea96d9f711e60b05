//! Turning planned events into the JSONL interchange shape, by hand into a reused buffer
//! (serde_json's `Value` would allocate per field and halve the throughput), and into typed
//! [`NewEvent`]s for in-process use.
//!
//! The `data` text is written in the canonical form `EventData::to_json` produces (struct
//! field order, compact), so what a store keeps after `jiancha import` is byte for byte what
//! the file says. A test holds the two writers to that.

use chrono::{NaiveTime, TimeZone};
use jiancha_events::time::CHINA;
use jiancha_events::{
    format_timestamp, Accepted, AlertAcknowledged, Complained, ComplaintAccepted,
    ComplaintAnswered, ComplaintRejected, Concluded, CorrectionCompleted, CorrectionOrdered,
    CorrectionRequested, CorrectionVerified, Decided, EventData, Extended, FeeCharged, Finding,
    MaterialsSupplemented, NewEvent, Outcome, Rated, RatingCallback, RatingRectified,
    RatingVerdict, RatingVerified, RejectedAtIntake, Resumed, StepCompleted, StreamName, Submitted,
    Suspended, Timestamp, Transferred, WarningThreshold, Withdrawn, SUPERVISION_STREAM,
};

use crate::catalog::Item;
use crate::days::{split, Instant};
use crate::names::{
    COMPLAINT_CATEGORIES, COMPLAINT_REJECTION_REASONS, EXTENSION_REASONS, LAWFUL_SUSPENSIONS,
    REJECTION_REASONS, UNLAWFUL_SUSPENSIONS, WITHDRAWAL_REASONS,
};
use crate::plan::{Actor, CasePlan, Payload, Planned, TransferReason};
use crate::supervise::CARD_RULES;
use crate::world::World;
use crate::SimError;

/// The catalog's actor and org.
const CATALOG_ACTOR: Actor = Actor::Admin;

/// Appends the JSONL line (with its newline) of catalog item `index`.
pub(crate) fn write_item(out: &mut String, world: &World, index: usize) {
    let Some(item) = world.catalog.items.get(index) else {
        return;
    };
    push_catalog_head(
        out,
        world,
        ("catalog", index),
        "ItemDefined",
        item_instant(world, index),
    );
    push_item_data(out, world, item);
    out.push_str("}\n");
}

/// Appends the head of a catalog event's JSONL line, up to and with `"data":`: the catalog
/// stream, the id `sim-<seed>-<kind>-<index + 1>`, the type, the instant, the catalog's actor
/// and the district center as org. The caller writes the data and closes the line.
fn push_catalog_head(
    out: &mut String,
    world: &World,
    (kind, index): (&str, usize),
    event_type: &str,
    instant: Instant,
) {
    out.push_str("{\"stream\":\"catalog\",\"id\":\"sim-");
    push_u64(out, world.seed);
    out.push('-');
    out.push_str(kind);
    out.push('-');
    push_u64(out, index as u64 + 1);
    out.push_str("\",\"type\":\"");
    out.push_str(event_type);
    out.push_str("\",\"occurred_at\":\"");
    push_timestamp(out, world, instant);
    out.push_str("\",\"actor\":\"");
    push_actor(out, CATALOG_ACTOR);
    out.push_str("\",\"org\":");
    push_str(out, world.district.org(world.district.center));
    out.push_str(",\"data\":");
}

/// Appends the JSONL line (with its newline) of org `index`'s name.
pub(crate) fn write_org(out: &mut String, world: &World, index: usize) {
    let (Some(path), Some((name, kind))) = (
        world.district.orgs.get(index),
        world.district.names.get(index),
    ) else {
        return;
    };
    push_catalog_head(
        out,
        world,
        ("org", index),
        "OrgDefined",
        org_instant(world, index),
    );
    out.push_str("{\"path\":");
    push_str(out, path);
    out.push_str(",\"name\":");
    push_str(out, name);
    out.push_str(",\"kind\":\"");
    out.push_str(kind.as_str());
    out.push_str("\"}}\n");
}

/// When org `index` is named: on the catalog day, a second apart, after the last item.
pub(crate) fn org_instant(world: &World, index: usize) -> Instant {
    item_instant(world, world.catalog.items.len() + index)
}

/// Org `index`'s name as a typed event.
pub(crate) fn org_event(world: &World, index: usize) -> Result<NewEvent, SimError> {
    let (Some(path), Some((name, kind))) = (
        world.district.orgs.get(index),
        world.district.names.get(index),
    ) else {
        return Err(SimError::Invalid(format!("no org {index}")));
    };
    let occurred_at = timestamp(world, org_instant(world, index))?;
    let data = EventData::OrgDefined(jiancha_events::OrgDefined {
        path: path.clone(),
        name: name.clone(),
        kind: *kind,
    });
    let center = world.district.org(world.district.center);
    Ok(NewEvent::new(
        StreamName::catalog(),
        occurred_at,
        actor_name(CATALOG_ACTOR),
        center,
        data,
    )
    .with_id(format!("sim-{}-org-{}", world.seed, index + 1)))
}

/// When catalog item `index` is defined: the working day before the start, from 09:00, a
/// second apart.
pub(crate) fn item_instant(world: &World, index: usize) -> Instant {
    crate::days::at(world.catalog_day, crate::days::OPEN_SECONDS + index as i64)
}

fn push_item_data(out: &mut String, world: &World, item: &Item) {
    out.push_str("{\"code\":");
    push_str(out, &item.code);
    out.push_str(",\"name\":");
    push_str(out, &item.name);
    out.push_str(",\"org\":");
    let dept = world.district.departments.get(item.dept as usize);
    push_str(out, world.district.org(dept.map_or(0, |d| d.org)));
    out.push_str(",\"statutory_days\":");
    push_u64(out, u64::from(item.statutory_days));
    out.push_str(",\"promised_days\":");
    push_u64(out, u64::from(item.promised_days));
    out.push_str(",\"fee_cents\":");
    push_u64(out, item.fee_cents);
    out.push_str(",\"steps\":");
    push_list(out, item.steps.iter().copied());
    out.push_str(",\"required_materials\":");
    push_list(out, item.materials.iter().copied());
    out.push_str(",\"in_center\":");
    out.push_str(if item.in_center { "true" } else { "false" });
    match item.warning {
        Some(WarningThreshold::DaysLeft(days)) => {
            out.push_str(",\"warning\":{\"days_left\":");
            push_u64(out, u64::from(days));
            out.push('}');
        }
        Some(WarningThreshold::ShareUsedPercent(percent)) => {
            out.push_str(",\"warning\":{\"share_used_percent\":");
            push_u64(out, u64::from(percent));
            out.push('}');
        }
        None => {}
    }
    if let Some(days) = item.max_extension_days {
        out.push_str(",\"max_extension_days\":");
        push_u64(out, u64::from(days));
    }
    out.push('}');
}

/// Appends the JSONL line (with its newline) of event `index` of a case.
pub(crate) fn write_event(out: &mut String, world: &World, plan: &CasePlan, index: usize) {
    let Some(event) = plan.events.get(index) else {
        return;
    };
    let supervision = event.payload.is_supervision();
    out.push_str("{\"stream\":\"");
    if supervision {
        out.push_str(SUPERVISION_STREAM);
    } else {
        push_stream(out, plan);
    }
    out.push_str("\",\"id\":\"sim-");
    push_u64(out, world.seed);
    out.push('-');
    if supervision {
        out.push_str(SUPERVISION_STREAM);
        out.push('-');
    }
    push_stream(out, plan);
    out.push('-');
    push_u64(out, u64::from(event.version));
    out.push_str("\",\"type\":\"");
    out.push_str(event.payload.type_name());
    out.push_str("\",\"occurred_at\":\"");
    push_timestamp(out, world, event.occurred);
    out.push_str("\",\"actor\":\"");
    push_actor(out, event.actor);
    out.push_str("\",\"org\":");
    push_str(out, world.district.org(event.org));
    out.push_str(",\"data\":");
    push_data(out, world, plan, event);
    out.push_str("}\n");
}

fn push_data(out: &mut String, world: &World, plan: &CasePlan, event: &Planned) {
    let item = world.catalog.item(plan.item);
    match event.payload {
        Payload::Submitted { channel, materials } => {
            push_text(out, "{\"item\"", item_code(item, plan));
            push_text(out, ",\"channel\"", channel.as_str());
            out.push_str(",\"materials\":");
            push_list(out, materials_of(item, materials));
            out.push('}');
        }
        Payload::CorrectionRequested { missing } => {
            out.push_str("{\"missing\":");
            push_list(out, materials_of(item, missing));
            out.push('}');
        }
        Payload::MaterialsSupplemented { materials } => {
            out.push_str("{\"materials\":");
            push_list(out, materials_of(item, materials));
            out.push('}');
        }
        Payload::Transferred { to, reason } => {
            push_text(out, "{\"to_org\"", world.district.org(to));
            push_text(out, ",\"reason\"", transfer_reason(reason));
            out.push('}');
        }
        Payload::StepCompleted { step } => push_field(out, "step", step_name(item, step)),
        Payload::Suspended {
            reason,
            notice_days,
        } => {
            push_text(out, "{\"reason\"", suspension_reason(reason));
            out.push_str(",\"notice\":");
            match notice(reason, notice_days) {
                Some(text) => push_str(out, &text),
                None => out.push_str("null"),
            }
            if let Some(days) = expected_days(notice_days) {
                out.push_str(",\"expected_days\":");
                push_u64(out, u64::from(days));
            }
            out.push('}');
        }
        Payload::Extended {
            days,
            reason,
            approved,
        } => {
            out.push_str("{\"days\":");
            push_u64(out, u64::from(days));
            out.push_str(",\"approved_by\":\"");
            if approved {
                push_actor(out, Actor::Head(plan.head));
            }
            push_text(out, "\",\"reason\"", pick(&EXTENSION_REASONS, reason));
            out.push('}');
        }
        Payload::Accepted {
            promised_extra,
            statutory_extra,
        } => {
            let (promised, statutory) = overrides(item, promised_extra, statutory_extra);
            let mut first = true;
            for (key, value) in [("promised_days", promised), ("statutory_days", statutory)] {
                if let Some(days) = value {
                    out.push_str(if first { "{\"" } else { ",\"" });
                    out.push_str(key);
                    out.push_str("\":");
                    push_u64(out, u64::from(days));
                    first = false;
                }
            }
            out.push_str(if first { "{}" } else { "}" });
        }
        Payload::FeeCharged { amount_cents } => push_number(out, "amount_cents", amount_cents),
        Payload::Rated { score } => push_number(out, "score", u64::from(score)),
        Payload::Decided { approved } => {
            push_field(out, "outcome", if approved { "approved" } else { "denied" })
        }
        Payload::RejectedAtIntake { reason } => {
            push_field(out, "reason", pick(&REJECTION_REASONS, reason))
        }
        Payload::Withdrawn { reason } => {
            push_field(out, "reason", pick(&WITHDRAWAL_REASONS, reason))
        }
        Payload::Complained { category } => {
            push_field(out, "category", pick(&COMPLAINT_CATEGORIES, category))
        }
        Payload::Resumed | Payload::Concluded => out.push_str("{}"),
        // A few in a hundred events: the typed form's canonical text is fast enough.
        _ => out.push_str(&typed_data(world, plan, event).to_json()),
    }
}

/// The item code an application names: the item's, or one the catalog does not define.
fn item_code<'a>(item: &'a Item, plan: &CasePlan) -> &'a str {
    if plan.unknown_item {
        &item.stray_code
    } else {
        &item.code
    }
}

/// The limits an acceptance asks for beyond the item's, if any. An acceptance naming both never
/// promises more than its statutory limit (the log refuses such an event), so the statutory
/// limit asked for is at least the promise asked for.
fn overrides(item: &Item, promised_extra: u8, statutory_extra: u8) -> (Option<u32>, Option<u32>) {
    let longer = |limit: u32, extra: u8| (extra > 0).then(|| limit + u32::from(extra));
    let promised = longer(item.promised_days, promised_extra);
    let statutory =
        longer(item.statutory_days, statutory_extra).map(|s| s.max(promised.unwrap_or(0)));
    (promised, statutory)
}

/// The working days a suspension's notice tells, as its `expected_days`; none without one.
fn expected_days(notice_days: u8) -> Option<u8> {
    (notice_days > 0).then_some(notice_days)
}

/// `prefix` (an opening brace or comma and a quoted key), a colon and the JSON string.
fn push_text(out: &mut String, prefix: &str, text: &str) {
    out.push_str(prefix);
    out.push(':');
    push_str(out, text);
}

/// An object of one string field.
fn push_field(out: &mut String, field: &str, text: &str) {
    out.push_str("{\"");
    out.push_str(field);
    out.push_str("\":");
    push_str(out, text);
    out.push('}');
}

/// An object of one number field.
fn push_number(out: &mut String, field: &str, value: u64) {
    out.push_str("{\"");
    out.push_str(field);
    out.push_str("\":");
    push_u64(out, value);
    out.push('}');
}

fn pick(table: &[&'static str], index: u8) -> &'static str {
    table.get(index as usize).copied().unwrap_or("其他")
}

fn materials_of(item: &Item, mask: u8) -> impl Iterator<Item = &'static str> + '_ {
    item.materials
        .iter()
        .enumerate()
        .filter(move |(i, _)| mask & (1 << i) != 0)
        .map(|(_, m)| *m)
}

fn step_name(item: &Item, step: u8) -> &'static str {
    item.steps.get(step as usize).copied().unwrap_or("审查")
}

fn transfer_reason(reason: TransferReason) -> &'static str {
    match reason {
        TransferReason::Agent => crate::names::AGENT_TRANSFER_REASON,
        TransferReason::Town => crate::names::TOWN_TRANSFER_REASON,
    }
}

fn suspension_reason(reason: u8) -> &'static str {
    let index = reason as usize;
    match LAWFUL_SUSPENSIONS.get(index) {
        Some((code, _)) => code,
        None => UNLAWFUL_SUSPENSIONS
            .get(index - LAWFUL_SUSPENSIONS.len())
            .copied()
            .unwrap_or("other"),
    }
}

/// The written notice of the time needed, e.g. `检验，需5个工作日`.
fn notice(reason: u8, days: u8) -> Option<String> {
    if days == 0 {
        return None;
    }
    let what = LAWFUL_SUSPENSIONS
        .get(reason as usize)
        .map_or("暂停办理", |(_, zh)| zh);
    Some(format!("{what}，需{days}个工作日"))
}

fn push_stream(out: &mut String, plan: &CasePlan) {
    out.push_str("case-");
    push_u64(out, plan.year.max(0) as u64);
    out.push('-');
    push_padded(out, plan.number, 6);
}

/// The stream name of a case.
pub(crate) fn stream_name(plan: &CasePlan) -> String {
    let mut out = String::with_capacity(20);
    push_stream(&mut out, plan);
    out
}

fn push_actor(out: &mut String, actor: Actor) {
    match actor {
        Actor::Citizen => out.push_str("citizen"),
        Actor::Admin => out.push_str("admin-1"),
        Actor::Clerk(n) => {
            out.push_str("clerk-");
            push_u64(out, u64::from(n));
        }
        Actor::Agent(n) => {
            out.push_str("agent-");
            push_u64(out, u64::from(n));
        }
        Actor::Head(n) => {
            out.push_str("head-");
            push_padded(out, u64::from(n), 2);
        }
        Actor::Inspector(n) => {
            out.push_str("inspector-");
            push_u64(out, u64::from(n));
        }
        Actor::Staff(n) => {
            out.push_str("staff-");
            push_u64(out, u64::from(n));
        }
    }
}

fn actor_name(actor: Actor) -> String {
    let mut out = String::with_capacity(12);
    push_actor(&mut out, actor);
    out
}

/// `2026-03-02T09:15:00+08:00`.
fn push_timestamp(out: &mut String, world: &World, instant: Instant) {
    let (day, seconds) = split(instant);
    let date = world.days.text(day);
    out.push_str(std::str::from_utf8(date).unwrap_or("0000-00-00"));
    out.push('T');
    push_padded(out, (seconds / 3600) as u64, 2);
    out.push(':');
    push_padded(out, (seconds / 60 % 60) as u64, 2);
    out.push(':');
    push_padded(out, (seconds % 60) as u64, 2);
    out.push_str("+08:00");
}

fn push_list<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, item);
    }
    out.push(']');
}

/// A JSON string. The simulator's own strings need no escaping; the slow path is there so
/// that a future table entry with a quote cannot produce a broken line.
fn push_str(out: &mut String, text: &str) {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else if let Ok(quoted) = serde_json::to_string(text) {
        out.push_str(&quoted);
    }
}

fn push_u64(out: &mut String, value: u64) {
    push_padded(out, value, 1);
}

/// Decimal digits, zero-padded to at least `width`, without going through `fmt`.
fn push_padded(out: &mut String, mut value: u64, width: usize) {
    let mut buffer = [b'0'; 20];
    let mut start = buffer.len();
    while value > 0 || start == buffer.len() {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    let start = start.min(buffer.len().saturating_sub(width));
    out.push_str(std::str::from_utf8(&buffer[start..]).unwrap_or("0"));
}

/// Appends the JSONL line (with its newline) of a whole typed event: the procurement
/// projects' and thresholds' path, a few events a day, so the typed form's text is fast enough.
pub(crate) fn write_new_event(out: &mut String, event: &NewEvent) {
    out.push_str("{\"stream\":");
    push_str(out, event.stream.as_str());
    out.push_str(",\"id\":");
    push_str(out, event.id.as_deref().unwrap_or_default());
    out.push_str(",\"type\":");
    push_str(out, event.data.type_name());
    out.push_str(",\"occurred_at\":");
    push_str(out, &format_timestamp(&event.occurred_at));
    out.push_str(",\"actor\":");
    push_str(out, &event.actor);
    out.push_str(",\"org\":");
    push_str(out, &event.org);
    out.push_str(",\"data\":");
    out.push_str(&event.data_json);
    out.push_str("}\n");
}

/// A timestamp at +08:00.
pub(crate) fn timestamp(world: &World, instant: Instant) -> Result<Timestamp, SimError> {
    let (day, seconds) = split(instant);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds as u32, 0)
        .ok_or_else(|| SimError::Invalid(format!("time of day {seconds}s")))?;
    let local = world.days.date(day).and_time(time);
    CHINA
        .from_local_datetime(&local)
        .single()
        .ok_or_else(|| SimError::Invalid(format!("instant {local}")))
}

/// Catalog item `index` as a typed event.
pub(crate) fn item_event(world: &World, index: usize) -> Result<NewEvent, SimError> {
    let item = world
        .catalog
        .items
        .get(index)
        .ok_or_else(|| SimError::Invalid(format!("no catalog item {index}")))?;
    let stream = StreamName::catalog();
    let occurred_at = timestamp(world, item_instant(world, index))?;
    let data = EventData::ItemDefined(item.definition(&world.district));
    let center = world.district.org(world.district.center);
    Ok(
        NewEvent::new(stream, occurred_at, actor_name(CATALOG_ACTOR), center, data)
            .with_id(format!("sim-{}-catalog-{}", world.seed, index + 1)),
    )
}

/// Event `index` of a case as a typed event.
pub(crate) fn case_event(
    world: &World,
    plan: &CasePlan,
    index: usize,
) -> Result<NewEvent, SimError> {
    let event = plan
        .events
        .get(index)
        .ok_or_else(|| SimError::Invalid(format!("no event {index} in case {}", plan.ordinal)))?;
    let name = stream_name(plan);
    let (stream, id) = if event.payload.is_supervision() {
        let id = format!(
            "sim-{}-{SUPERVISION_STREAM}-{name}-{}",
            world.seed, event.version
        );
        (StreamName::supervision(), id)
    } else {
        let stream = StreamName::parse(&name).map_err(|e| SimError::Invalid(e.to_string()))?;
        (
            stream,
            format!("sim-{}-{name}-{}", world.seed, event.version),
        )
    };
    let occurred_at = timestamp(world, event.occurred)?;
    let data = typed_data(world, plan, event);
    let org = world.district.org(event.org);
    Ok(NewEvent::new(stream, occurred_at, actor_name(event.actor), org, data).with_id(id))
}

fn typed_data(world: &World, plan: &CasePlan, event: &Planned) -> EventData {
    let item = world.catalog.item(plan.item);
    let owned = |mask| materials_of(item, mask).map(str::to_owned).collect();
    let text = |table: &[&'static str], i| pick(table, i).to_owned();
    match event.payload {
        Payload::Submitted { channel, materials } => EventData::Submitted(Submitted {
            item: item_code(item, plan).to_owned(),
            channel,
            materials: owned(materials),
        }),
        Payload::CorrectionRequested { missing } => {
            EventData::CorrectionRequested(CorrectionRequested {
                missing: owned(missing),
            })
        }
        Payload::MaterialsSupplemented { materials } => {
            EventData::MaterialsSupplemented(MaterialsSupplemented {
                materials: owned(materials),
            })
        }
        Payload::Accepted {
            promised_extra,
            statutory_extra,
        } => {
            let (promised_days, statutory_days) = overrides(item, promised_extra, statutory_extra);
            EventData::Accepted(Accepted {
                promised_days,
                statutory_days,
            })
        }
        Payload::RejectedAtIntake { reason } => EventData::RejectedAtIntake(RejectedAtIntake {
            reason: text(&REJECTION_REASONS, reason),
        }),
        Payload::Transferred { to, reason } => EventData::Transferred(Transferred {
            to_org: world.district.org(to).to_owned(),
            reason: transfer_reason(reason).to_owned(),
        }),
        Payload::StepCompleted { step } => EventData::StepCompleted(StepCompleted {
            step: step_name(item, step).to_owned(),
        }),
        Payload::Suspended {
            reason,
            notice_days,
        } => EventData::Suspended(Suspended {
            reason: suspension_reason(reason).to_owned(),
            notice: notice(reason, notice_days),
            expected_days: expected_days(notice_days).map(u32::from),
        }),
        Payload::Resumed => EventData::Resumed(Resumed {}),
        Payload::Extended {
            days,
            reason,
            approved,
        } => EventData::Extended(Extended {
            days: u32::from(days),
            approved_by: if approved {
                actor_name(Actor::Head(plan.head))
            } else {
                String::new()
            },
            reason: text(&EXTENSION_REASONS, reason),
        }),
        Payload::FeeCharged { amount_cents } => EventData::FeeCharged(FeeCharged { amount_cents }),
        Payload::Decided { approved } => EventData::Decided(Decided {
            outcome: if approved {
                Outcome::Approved
            } else {
                Outcome::Denied
            },
        }),
        Payload::Concluded => EventData::Concluded(Concluded {}),
        Payload::Withdrawn { reason } => EventData::Withdrawn(Withdrawn {
            reason: text(&WITHDRAWAL_REASONS, reason),
        }),
        Payload::Rated { score } => EventData::Rated(Rated { score }),
        Payload::Complained { category } => EventData::Complained(Complained {
            category: text(&COMPLAINT_CATEGORIES, category),
        }),
        _ => supervision_data(world, plan, event.payload),
    }
}

/// The data of a supervision act on the case.
fn supervision_data(world: &World, plan: &CasePlan, payload: Payload) -> EventData {
    let case = stream_name(plan);
    let alert = |card: u8| {
        let rule = CARD_RULES.get(usize::from(card)).copied().unwrap_or("");
        format!("{case}/{rule}/1")
    };
    // The case's one complaint.
    let complaint = || format!("{case}/complaint/1");
    match payload {
        Payload::AlertAcknowledged { card } => EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: alert(card),
            note: Some("已收到，正在核查".to_owned()),
        }),
        Payload::CorrectionOrdered { card, days } => {
            EventData::CorrectionOrdered(CorrectionOrdered {
                card_at: None,
                alert: alert(card),
                case,
                days: u32::from(days),
            })
        }
        Payload::CorrectionCompleted { card } => {
            EventData::CorrectionCompleted(CorrectionCompleted {
                card_at: None,
                alert: alert(card),
                case,
                report: Some("已按督办要求整改完毕".to_owned()),
            })
        }
        Payload::CorrectionVerified { card, accepted } => {
            EventData::CorrectionVerified(CorrectionVerified {
                card_at: None,
                alert: alert(card),
                case,
                accepted,
                note: Some(
                    if accepted {
                        "整改到位"
                    } else {
                        "整改不到位，重新整改"
                    }
                    .to_owned(),
                ),
            })
        }
        Payload::RatingVerified { verdict } => EventData::RatingVerified(RatingVerified {
            case,
            verdict,
            note: Some(
                match verdict {
                    RatingVerdict::Valid => "差评属实",
                    RatingVerdict::Mistaken => "误评",
                    RatingVerdict::Malicious => "恶意差评",
                }
                .to_owned(),
            ),
        }),
        Payload::RatingRectified => EventData::RatingRectified(RatingRectified {
            case,
            report: "已联系申请人并整改".to_owned(),
        }),
        Payload::RatingCallback { score } => {
            EventData::RatingCallback(RatingCallback { case, score })
        }
        Payload::ComplaintAccepted { to } => EventData::ComplaintAccepted(ComplaintAccepted {
            complaint: complaint(),
            route_to: Some(world.district.org(to).to_owned()),
        }),
        Payload::ComplaintRejected { reason } => EventData::ComplaintRejected(ComplaintRejected {
            complaint: complaint(),
            reason: pick(&COMPLAINT_REJECTION_REASONS, reason).to_owned(),
        }),
        Payload::ComplaintAnswered { upheld } => EventData::ComplaintAnswered(ComplaintAnswered {
            complaint: complaint(),
            finding: if upheld {
                Finding::Upheld
            } else {
                Finding::NotUpheld
            },
            reply: if upheld {
                "投诉属实，已责令整改并致歉"
            } else {
                "经核查，投诉事项不属实"
            }
            .to_owned(),
        }),
        // Case events are written by `typed_data`.
        _ => EventData::Resumed(Resumed {}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_padded() {
        let mut out = String::new();
        push_padded(&mut out, 0, 1);
        out.push(' ');
        push_padded(&mut out, 7, 6);
        out.push(' ');
        push_padded(&mut out, 1_234_567, 6);
        out.push(' ');
        push_u64(&mut out, u64::MAX);
        assert_eq!(out, "0 000007 1234567 18446744073709551615");
    }

    #[test]
    fn strings_are_escaped_when_needed() {
        let mut out = String::new();
        push_str(&mut out, "审查");
        push_str(&mut out, "a\"b\\c\n");
        assert_eq!(out, r#""审查""a\"b\\c\n""#);
    }
}

#[cfg(test)]
mod override_tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::district::{District, DistrictShape};
    use crate::rng::{Purpose, Rng};

    /// Every acceptance the simulator can write asking for longer limits passes the log's
    /// append checks, whatever the item: it never promises more than the statutory limit it
    /// asks for (an item whose promise is close to its statutory limit once made
    /// `simulate | import` fail on a large district).
    #[test]
    fn every_override_passes_the_append_checks() {
        let mut checked = 0;
        for seed in 1..=5 {
            let district = District::new(&DistrictShape::default(), seed);
            let mut rng = Rng::new(seed, Purpose::World, 1);
            let catalog = Catalog::new(&mut rng, &district, 200);
            for item in &catalog.items {
                for promised_extra in 0..=5u8 {
                    for statutory_extra in 0..=10u8 {
                        let (promised_days, statutory_days) =
                            overrides(item, promised_extra, statutory_extra);
                        let accepted = EventData::Accepted(Accepted {
                            promised_days,
                            statutory_days,
                        });
                        accepted.check_append().unwrap_or_else(|e| {
                            panic!("{} +{promised_extra}/+{statutory_extra}: {e}", item.code)
                        });
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 200 * 6 * 11);
    }
}
