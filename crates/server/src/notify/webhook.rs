//! The webhook channel: one notification is a POST of a JSON body (the notification id, the
//! recipient's name, the case id and the alert as `GET /alerts` shows it), signed with the
//! recipient's secret (`X-Jiancha-Signature: sha256=<hex HMAC-SHA256 of the body bytes>`) and
//! named in `X-Jiancha-Notification`, tried until a 2xx answers or the attempts run out.
//!
//! The waits between attempts double from `first_retry` up to `retry_max`, each lengthened by
//! a jitter of up to half of it, drawn from a generator seeded by the notification id: many
//! notifications retried at once spread out, and nothing reads a clock or a global RNG.

use std::time::Duration;

use hmac::{Hmac, Mac};
use jiancha_projections::AlertView;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Delivery, Recipient};

/// The header of the signature.
pub const SIGNATURE_HEADER: &str = "X-Jiancha-Signature";
/// The header naming the notification, the same in every delivery of it: a receiver drops
/// duplicates by it. Bytes outside printable ASCII (and `%`) are percent-encoded (UTF-8).
pub const NOTIFICATION_HEADER: &str = "X-Jiancha-Notification";
/// What the signature's hex digits follow.
pub const SIGNATURE_PREFIX: &str = "sha256=";

/// The longest error text a `NotificationFailed` keeps.
const ERROR_BYTES_MAX: usize = 500;

#[derive(Serialize)]
struct Payload<'a> {
    notification: &'a str,
    recipient: &'a str,
    case: &'a str,
    alert: &'a AlertView,
}

/// The body of a notification: `{"notification", "recipient", "case", "alert"}`.
pub fn payload(
    notification: &str,
    recipient: &str,
    alert: &AlertView,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Payload {
        notification,
        recipient,
        case: &alert.case,
        alert,
    })
}

/// The signature header's value for `body`: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes a key of any length"),
    };
    mac.update(body);
    format!(
        "{SIGNATURE_PREFIX}{}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The notification id as a header value: printable ASCII kept, every other byte (and `%`)
/// percent-encoded.
fn header_value(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How a notification ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A 2xx answered the attempt numbered `attempts` (from 1).
    Sent { attempts: u32 },
    /// Every attempt failed; the last one's error.
    Failed { error: String },
}

/// Posts `body` to the recipient until a 2xx answers or the attempts run out.
pub(crate) async fn deliver(
    client: &reqwest::Client,
    recipient: &Recipient,
    delivery: &Delivery,
    notification: &str,
    body: Vec<u8>,
) -> Outcome {
    let signed = signature(&recipient.secret, &body);
    let named = header_value(notification);
    let mut jitter = Jitter::seeded(notification);
    let mut error = String::new();
    for attempt in 1..=delivery.attempts {
        let sent = client
            .post(recipient.webhook.clone())
            .timeout(delivery.timeout)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, &signed)
            .header(NOTIFICATION_HEADER, &named)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => {
                return Outcome::Sent { attempts: attempt };
            }
            Ok(answer) => error = format!("HTTP {}", answer.status()),
            Err(e) => error = describe(&e.without_url()),
        }
        tracing::debug!(%notification, attempt, %error, "notification attempt failed");
        if attempt < delivery.attempts {
            tokio::time::sleep(wait(delivery, attempt, &mut jitter)).await;
        }
    }
    tracing::warn!(%notification, attempts = delivery.attempts, %error, "notification failed");
    Outcome::Failed {
        error: truncate(error),
    }
}

/// An error with its causes, `a: b: c` (reqwest's own text alone says little).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn truncate(mut text: String) -> String {
    if text.len() > ERROR_BYTES_MAX {
        let mut end = ERROR_BYTES_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The wait after failed attempt number `attempt` (from 1): `first_retry · 2^(attempt−1)`,
/// plus up to half of it, at most `retry_max`.
fn wait(delivery: &Delivery, attempt: u32, jitter: &mut Jitter) -> Duration {
    let first = u64::try_from(delivery.first_retry.as_millis()).unwrap_or(u64::MAX);
    let max = u64::try_from(delivery.retry_max.as_millis()).unwrap_or(u64::MAX);
    let base = first
        .saturating_mul(
            1u64.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u64::MAX),
        )
        .min(max);
    let extra = jitter.next() % (base / 2 + 1);
    Duration::from_millis(base.saturating_add(extra).min(max))
}

/// A splitmix64 generator: small, seeded, good enough to spread retries.
#[derive(Debug)]
struct Jitter(u64);

impl Jitter {
    fn seeded(notification: &str) -> Jitter {
        let digest = Sha256::digest(notification.as_bytes());
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&digest[..8]);
        Jitter(u64::from_le_bytes(seed))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn waits_double_from_the_first_retry_with_bounded_jitter() {
        let delivery = Delivery::default();
        let mut jitter = Jitter::seeded("case-1/overdue.promised/1/dept-05 leader");
        let first = wait(&delivery, 1, &mut jitter);
        assert!(first >= Duration::from_secs(1) && first <= Duration::from_millis(1500));
        assert!(first < Duration::from_secs(2), "the first retry within 2 s");
        let third = wait(&delivery, 3, &mut jitter);
        assert!(third >= Duration::from_secs(4) && third <= Duration::from_secs(6));
        assert_eq!(wait(&delivery, 40, &mut jitter), delivery.retry_max);
        // Seeded by the id: the same id waits alike.
        let mut again = Jitter::seeded("case-1/overdue.promised/1/dept-05 leader");
        assert_eq!(wait(&delivery, 1, &mut again), first);
    }

    #[test]
    fn the_header_keeps_ascii_and_encodes_the_rest() {
        assert_eq!(header_value("c/r/1/dept-05 leader"), "c/r/1/dept-05 leader");
        assert_eq!(header_value("c/r/1/科长%"), "c/r/1/%E7%A7%91%E9%95%BF%25");
        assert_eq!(truncate("é".repeat(400)).len(), ERROR_BYTES_MAX);
    }
}
