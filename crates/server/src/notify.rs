//! Notifications (推送): who is told of which alert, read from a TOML file (`serve --notify`),
//! and the outbox that tells them by webhook.
//!
//! ```toml
//! [delivery]                  # optional; the defaults below
//! attempts = 8                # per notification, the first included
//! timeout_ms = 10000          # per attempt
//! first_retry_ms = 1000       # the first wait; doubled per attempt, jittered up to +50%
//! retry_max_ms = 300000       # the longest wait between two attempts
//! max_age_hours = 24          # alerts raised longer ago than this are never sent
//! queue = 1024                # notifications waiting for a sender
//! rescan_ms = 30000           # how soon the log is read again for what was left owed
//!
//! [[recipient]]
//! name = "dept-05 leader"             # unique; part of the notification id
//! org = "jiangjin/center/dept-05"     # alerts of this org and every org under it
//! severities = ["red"]                # warning, yellow, red; default yellow and red (cards)
//! escalations = true                  # also alerts escalated to an org under `org`
//! webhook = "https://sms-gateway.example/jiancha"
//! secret = "…"                        # the HMAC-SHA256 key of the signature
//! ```
//!
//! A notification is `<alert id>/<recipient name>`. The log is the outbox: one is owed for each
//! alert raised within `max_age_hours` that matches a recipient, until a `NotificationSent` or
//! `NotificationFailed` with its id is in the log (written by [`outbox`], event id
//! `notification:<id>`, so it is recorded once whoever records it).

mod outbox;
mod webhook;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use jiancha_events::stream::{check_org, org_is_under, NAME_BYTES_MAX};
use jiancha_events::Severity;
use jiancha_projections::{AlertView, Rule};
use serde::Deserialize;

pub use outbox::{start, Notifier, NOTIFICATION_ID_PREFIX, SENDS_AT_ONCE};
pub use webhook::{payload, signature, NOTIFICATION_HEADER, SIGNATURE_HEADER, SIGNATURE_PREFIX};

/// The most recipients a file may list.
pub const RECIPIENTS_MAX: usize = 10_000;
/// The most attempts a notification may be given.
pub const ATTEMPTS_MAX: u32 = 100;

/// Why a notification file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NotifyConfigError {
    /// The file cannot be read: check the path and permissions.
    #[error("cannot read the notification file {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape (an unknown field, a wrong type):
    /// fix the named place.
    #[error("the notification file is not valid: {0}")]
    Parse(String),
    /// A recipient is wrong: fix the named field of the named `[[recipient]]`.
    #[error("the notification file's recipient {index} ({name:?}): {field}: {message}")]
    Recipient {
        /// 1-based place of the `[[recipient]]` table.
        index: usize,
        /// Its name.
        name: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A `[delivery]` setting is out of range: fix it.
    #[error("the notification file's delivery.{field}: {message}")]
    Delivery {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The file lists no recipient, or too many.
    #[error("the notification file must list 1 to {RECIPIENTS_MAX} [[recipient]] tables")]
    Recipients,
    /// The HTTP client cannot be built (no TLS roots): an installation problem.
    #[error("cannot build the notifications' HTTP client: {0}")]
    Client(String),
}

/// Who is told of which alerts, and how hard the outbox tries.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The recipients, in the file's order.
    pub recipients: Vec<Recipient>,
    /// The delivery settings.
    pub delivery: Delivery,
}

/// One recipient: the alerts it is told of and where.
#[derive(Clone)]
pub struct Recipient {
    /// Its unique name, the last part of its notification ids.
    pub name: String,
    /// The org path whose alerts (its own and every org's under it) it is told of.
    pub org: String,
    /// The severities it is told of.
    pub severities: BTreeSet<Severity>,
    /// Whether it is also told of alerts escalated to an org under [`Recipient::org`].
    pub escalations: bool,
    /// Where the notifications are posted.
    pub webhook: reqwest::Url,
    /// The key of the signature; never logged.
    pub secret: String,
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipient")
            .field("name", &self.name)
            .field("org", &self.org)
            .field("severities", &self.severities)
            .field("escalations", &self.escalations)
            .field("webhook", &self.webhook.as_str())
            .field("secret", &"…")
            .finish()
    }
}

impl Recipient {
    /// Whether this recipient is told of `alert` (never of a `supervision.notify.failed`): its
    /// severity is one of
    /// [`Recipient::severities`], and its org lies under [`Recipient::org`] (segment-wise: `dept-0`
    /// does not cover `dept-05`) or, with [`Recipient::escalations`], the org it is escalated
    /// to does.
    pub fn wants(&self, alert: &AlertView) -> bool {
        // A failed notification's own alert is shown, never sent: sent through the channel
        // that failed, its failure would raise another, and so on.
        if alert.rule == Rule::NotifyFailed.code() {
            return false;
        }
        if !self.severities.iter().any(|s| s.as_str() == alert.severity) {
            return false;
        }
        org_is_under(&alert.org, &self.org)
            || (self.escalations
                && alert
                    .escalated_to
                    .as_deref()
                    .is_some_and(|to| org_is_under(to, &self.org)))
    }

    /// The id of the notification of `alert` to this recipient: `<alert id>/<name>`.
    pub fn notification_id(&self, alert: &AlertView) -> String {
        format!("{}/{}", alert.id, self.name)
    }
}

/// How the outbox delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Attempts per notification, the first included (default 8).
    pub attempts: u32,
    /// The limit of one attempt, connection to answer (default 10 s).
    pub timeout: Duration,
    /// The wait before the first retry (default 1 s); each later one doubles, up to
    /// [`Delivery::retry_max`], and each is lengthened by a jitter of up to half of it.
    pub first_retry: Duration,
    /// The longest wait between attempts (default 5 min).
    pub retry_max: Duration,
    /// Alerts raised longer ago than this (by the engine's clock) are never sent (default 24 h),
    /// so that turning notifications on over an old log does not page everyone for history.
    pub max_age: Duration,
    /// Notifications that may wait for a sender (default 1,024); beyond, the rest stay owed in
    /// the log and are found by the next scan.
    pub queue: usize,
    /// How soon the log is scanned again after something was left owed (a full queue, a
    /// missed alert change, a record that could not be appended; default 30 s).
    pub rescan: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            attempts: 8,
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            max_age: Duration::from_secs(24 * 3600),
            queue: 1_024,
            rescan: Duration::from_secs(30),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    delivery: DeliveryEntry,
    #[serde(default)]
    recipient: Vec<Entry>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DeliveryEntry {
    attempts: Option<u32>,
    timeout_ms: Option<u64>,
    first_retry_ms: Option<u64>,
    retry_max_ms: Option<u64>,
    max_age_hours: Option<u64>,
    queue: Option<usize>,
    rescan_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    org: String,
    severities: Option<Vec<String>>,
    #[serde(default)]
    escalations: bool,
    webhook: String,
    secret: String,
}

impl NotifyConfig {
    /// Reads and checks a notification file.
    pub fn load(path: &Path) -> Result<NotifyConfig, NotifyConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| NotifyConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        NotifyConfig::parse(&text)
    }

    /// Checks a notification file's text.
    pub fn parse(text: &str) -> Result<NotifyConfig, NotifyConfigError> {
        let file: File =
            serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
                let path = place(e.path());
                NotifyConfigError::Parse(format!("{path}: {}", e.into_inner().message()))
            })?;
        if file.recipient.is_empty() || file.recipient.len() > RECIPIENTS_MAX {
            return Err(NotifyConfigError::Recipients);
        }
        let delivery = delivery(file.delivery)?;
        let mut names = BTreeSet::new();
        let mut recipients = Vec::with_capacity(file.recipient.len());
        for (index, entry) in file.recipient.into_iter().enumerate() {
            let recipient = check_entry(index, entry)?;
            if !names.insert(recipient.name.clone()) {
                return Err(NotifyConfigError::Recipient {
                    index: index + 1,
                    name: recipient.name,
                    field: "name",
                    message: "repeats the name of an earlier recipient".into(),
                });
            }
            recipients.push(recipient);
        }
        Ok(NotifyConfig {
            recipients,
            delivery,
        })
    }
}

/// A place in the file as its errors name it: `recipient 2.org`, `delivery.attempts` (tables
/// of an array counted from 1, as in the other refusals).
fn place(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut parts: Vec<String> = Vec::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => match parts.last_mut() {
                Some(last) => last.push_str(&format!(" {}", index + 1)),
                None => parts.push(format!("{}", index + 1)),
            },
            Segment::Map { key } => parts.push(key.clone()),
            Segment::Enum { variant } => parts.push(variant.clone()),
            Segment::Unknown => parts.push("?".into()),
        }
    }
    if parts.is_empty() {
        "the file".into()
    } else {
        parts.join(".")
    }
}

fn delivery(d: DeliveryEntry) -> Result<Delivery, NotifyConfigError> {
    let bad = |field: &'static str, message: &str| NotifyConfigError::Delivery {
        field,
        message: message.to_owned(),
    };
    let defaults = Delivery::default();
    let ms = |field: &'static str, value: Option<u64>, default: Duration, max: u64| match value {
        None => Ok(default),
        Some(v) if (1..=max).contains(&v) => Ok(Duration::from_millis(v)),
        Some(_) => Err(bad(field, &format!("must be 1 to {max}"))),
    };
    let attempts = match d.attempts {
        None => defaults.attempts,
        Some(n) if (1..=ATTEMPTS_MAX).contains(&n) => n,
        Some(_) => return Err(bad("attempts", &format!("must be 1 to {ATTEMPTS_MAX}"))),
    };
    const DAY_MS: u64 = 24 * 3600 * 1000;
    let max_age = match d.max_age_hours {
        None => defaults.max_age,
        Some(h) if (1..=24 * 366).contains(&h) => Duration::from_secs(h * 3600),
        Some(_) => return Err(bad("max_age_hours", "must be 1 to 8784 (a year)")),
    };
    let queue = match d.queue {
        None => defaults.queue,
        Some(n) if (1..=1_000_000).contains(&n) => n,
        Some(_) => return Err(bad("queue", "must be 1 to 1000000")),
    };
    let delivery = Delivery {
        attempts,
        timeout: ms("timeout_ms", d.timeout_ms, defaults.timeout, 600_000)?,
        first_retry: ms(
            "first_retry_ms",
            d.first_retry_ms,
            defaults.first_retry,
            DAY_MS,
        )?,
        retry_max: ms("retry_max_ms", d.retry_max_ms, defaults.retry_max, DAY_MS)?,
        max_age,
        queue,
        rescan: ms("rescan_ms", d.rescan_ms, defaults.rescan, DAY_MS)?,
    };
    if delivery.retry_max < delivery.first_retry {
        return Err(bad("retry_max_ms", "must not be below first_retry_ms"));
    }
    Ok(delivery)
}

fn check_entry(index: usize, entry: Entry) -> Result<Recipient, NotifyConfigError> {
    let bad = |field: &'static str, message: String| NotifyConfigError::Recipient {
        index: index + 1,
        name: entry.name.clone(),
        field,
        message,
    };
    let name = &entry.name;
    if name.trim().is_empty() || name.len() > NAME_BYTES_MAX {
        return Err(bad("name", format!("must be 1 to {NAME_BYTES_MAX} bytes")));
    }
    if name.trim() != name {
        return Err(bad("name", "begins or ends with whitespace".into()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || *c == '/' || jiancha_events::stream::is_invisible(*c))
    {
        return Err(bad(
            "name",
            format!(
                "contains U+{:04X}: a name may not hold '/' (it ends the notification id), \
                 control or invisible characters",
                u32::from(c)
            ),
        ));
    }
    check_org("org", &entry.org).map_err(|e| bad("org", e.message))?;
    let severities = match &entry.severities {
        None => [Severity::Yellow, Severity::Red].into_iter().collect(),
        Some(list) if list.is_empty() => {
            return Err(bad("severities", "must name at least one severity".into()));
        }
        Some(list) => list
            .iter()
            .map(|s| match s.as_str() {
                "warning" => Ok(Severity::Warning),
                "yellow" => Ok(Severity::Yellow),
                "red" => Ok(Severity::Red),
                other => Err(bad(
                    "severities",
                    format!("unknown severity {other:?} (warning, yellow or red)"),
                )),
            })
            .collect::<Result<_, _>>()?,
    };
    let webhook = reqwest::Url::parse(&entry.webhook)
        .map_err(|e| bad("webhook", format!("not a URL: {e}")))?;
    if !matches!(webhook.scheme(), "http" | "https") || webhook.host_str().is_none() {
        return Err(bad(
            "webhook",
            "must be an http:// or https:// URL with a host".into(),
        ));
    }
    if !webhook.username().is_empty() || webhook.password().is_some() {
        return Err(bad(
            "webhook",
            "must not carry credentials (the secret signs each body)".into(),
        ));
    }
    if entry.secret.trim().is_empty() {
        return Err(bad("secret", "must not be empty".into()));
    }
    Ok(Recipient {
        name: entry.name.clone(),
        org: entry.org.clone(),
        severities,
        escalations: entry.escalations,
        webhook,
        secret: entry.secret.clone(),
    })
}

#[cfg(test)]
mod tests;
