//! The public progress lookup (办件查询), without a login: `GET /public/v1/cases/{receipt}?code=`
//! answers a citizen who holds the acceptance receipt with [`PublicCase`] — the item's and the
//! handling unit's names, the status, the acceptance date, the promised due date, the steps
//! completed and the conclusion — and never anything else (no actors, materials, ratings,
//! complaints nor alerts). `/public/lookup` is the same lookup as a form (`public_pages`).
//!
//! The receipt number is the case id; the query code is [`PublicSecret::query_code`]: an
//! HMAC-SHA-256 of the receipt number under the server's secret (`--public-secret FILE`), its
//! first 40 bits written as 8 characters of an alphabet without look-alikes. A code is checked
//! with `hmac`'s constant-time verification, before the log is read: a wrong code, an unknown
//! case, a receipt number no case could have and a server without a secret all take the same
//! path to the same 404 with the same body. Every lookup counts against its client address's
//! allowance (`limits::ClientLimiter`, 30 a minute by default; 429 with `Retry-After`).
//!
//! The case is read from the engine's fold; the dates of its steps from its stream, kept
//! ([`Steps`]) while the fold shows the case at the same last event.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State as StateExtractor};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use jiancha_events::EventData;
use jiancha_projections::instant::{date_of, format};
use jiancha_projections::Millis;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{ApiError, ErrorKind};
use crate::listen::ClientAddr;
use crate::State;

/// The fewest bytes a public secret may have.
pub const SECRET_BYTES_MIN: usize = 16;

/// The characters of a query code: digits and capitals without 0, 1, I and O.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// How many characters a query code has (5 bits each: 40 bits of the HMAC).
pub const CODE_LENGTH: usize = 8;

/// Separates the query codes' HMAC from any other use of the same secret.
const CODE_CONTEXT: &[u8] = b"jiancha public lookup v1\0";

/// The one answer to a lookup that finds nothing to show, whatever the reason.
const NOT_FOUND_MESSAGE: &str =
    "no case with this receipt number and query code: check both on the acceptance receipt";

/// The server's secret for query codes, read from a file. Its bytes are never shown: `Debug`
/// prints their count only.
#[derive(Clone)]
pub struct PublicSecret {
    key: Arc<[u8]>,
}

impl std::fmt::Debug for PublicSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicSecret({} bytes, redacted)", self.key.len())
    }
}

/// Why a public secret file cannot be used. The messages name the file, never its content.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file cannot be read: check the path and its permissions.
    #[error("cannot read the public secret {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds fewer than [`SECRET_BYTES_MIN`] bytes (once a trailing line break is
    /// dropped): write a longer random secret into it (`head -c 32 /dev/urandom > FILE`).
    #[error(
        "the public secret {path} holds {len} bytes: it needs at least {SECRET_BYTES_MIN} \
         (make one with: head -c 32 /dev/urandom > {path})"
    )]
    TooShort {
        /// The file.
        path: PathBuf,
        /// How many bytes it holds.
        len: usize,
    },
}

impl PublicSecret {
    /// Reads the secret from `path`: its bytes, less trailing line breaks and spaces (so a
    /// secret written with `echo` and one written with `printf` are the same).
    pub fn load(path: &FsPath) -> Result<PublicSecret, SecretError> {
        let bytes = std::fs::read(path).map_err(|source| SecretError::Read {
            path: path.to_owned(),
            source,
        })?;
        PublicSecret::from_bytes(&bytes).map_err(|len| SecretError::TooShort {
            path: path.to_owned(),
            len,
        })
    }

    /// The secret of `bytes` (trailing whitespace dropped), or the count of the bytes kept
    /// when they are too few.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicSecret, usize> {
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        let key = &bytes[..end];
        if key.len() < SECRET_BYTES_MIN {
            return Err(key.len());
        }
        Ok(PublicSecret { key: key.into() })
    }

    fn mac(&self, receipt: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(CODE_CONTEXT);
        mac.update(receipt.as_bytes());
        mac
    }

    /// The query code printed on the receipt of case `receipt`.
    pub fn query_code(&self, receipt: &str) -> String {
        let tag = self.mac(receipt).finalize().into_bytes();
        let mut bits: u64 = 0;
        for b in tag.iter().take(5) {
            bits = bits << 8 | u64::from(*b);
        }
        (0..CODE_LENGTH)
            .rev()
            .map(|i| char::from(CODE_ALPHABET[((bits >> (5 * i)) & 31) as usize]))
            .collect()
    }

    /// Whether `code` is the query code of `receipt` (letters in either case), compared in
    /// constant time; a malformed code takes the same path as a wrong one.
    pub fn verify(&self, receipt: &str, code: &str) -> bool {
        let (tag, well_formed) = decode(code);
        let matches = self.mac(receipt).verify_truncated_left(&tag).is_ok();
        matches && well_formed
    }
}

/// The 40 bits a code stands for, as 5 bytes, and whether it is a well-formed code (8
/// characters of the alphabet, either case).
fn decode(code: &str) -> ([u8; 5], bool) {
    let mut bits: u64 = 0;
    let mut ok = code.len() == CODE_LENGTH;
    for (i, c) in code
        .bytes()
        .chain(std::iter::repeat(b'2'))
        .take(CODE_LENGTH)
        .enumerate()
    {
        let value = CODE_ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase());
        ok &= value.is_some() && i < code.len();
        bits = bits << 5 | value.unwrap_or(0) as u64;
    }
    let bytes = bits.to_be_bytes();
    let mut tag = [0; 5];
    tag.copy_from_slice(&bytes[3..]);
    (tag, ok)
}

/// A step of the procedure, done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PublicStep {
    /// The step's name, as the item's procedure names it.
    pub step: String,
    /// The day it was completed.
    pub completed_on: NaiveDate,
}

/// What the public lookup shows of a case: exactly these fields (a test holds the answer to
/// this list), so nothing about who handled it, what was handed in, ratings or complaints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PublicCase {
    /// The receipt number (the case id).
    pub receipt: String,
    /// The name of the item applied for (its code when the catalog names none).
    pub item_name: String,
    /// The name of the handling unit (its path when no name is defined).
    pub unit_name: String,
    /// submitted, running, suspended, concluded, withdrawn or rejected.
    pub status: &'static str,
    /// The acceptance date.
    pub accepted_on: Option<NaiveDate>,
    /// The promised due date (null while a lawful suspension keeps it open, or before
    /// acceptance).
    pub promised_due_on: Option<NaiveDate>,
    /// Whether the due date still relies on holidays not yet announced, so it may move.
    pub due_provisional: bool,
    /// The steps completed, in order, with their dates.
    pub steps: Vec<PublicStep>,
    /// The conclusion date.
    pub concluded_on: Option<NaiveDate>,
    /// Concluded on or before the promised due date (null until concluded).
    pub on_time: Option<bool>,
    /// The instant of this answer (RFC 3339, +08:00).
    pub as_of: String,
}

/// Why a lookup shows nothing.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The one 404: wrong code, unknown case, odd receipt, lookup off.
    NotFound,
    /// Over the address's allowance: wait this many seconds.
    Limited(u64),
    /// The log could not be read.
    Internal(ApiError),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::NotFound => ApiError::not_found(NOT_FOUND_MESSAGE).into_response(),
            Refusal::Limited(secs) => {
                let mut response = ApiError::new(
                    ErrorKind::TooManyRequests,
                    format!(
                        "too many lookups from this address: try again in {secs} s (see \
                         Retry-After)"
                    ),
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                response
            }
            Refusal::Internal(e) => e.into_response(),
        }
    }
}

/// Looks a case up for the public: counts the lookup against `client`'s allowance, checks the
/// code, then reads the case from the engine's live fold at the engine's clock, and the dates
/// of its steps from its stream.
pub(crate) async fn lookup(
    state: &State,
    client: Option<ClientAddr>,
    receipt: &str,
    code: &str,
) -> Result<PublicCase, Refusal> {
    let now = state.engine.now();
    let ip = client.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0);
    state
        .public_limiter
        .check(ip, now)
        .map_err(Refusal::Limited)?;
    let secret = state.public.as_ref().ok_or(Refusal::NotFound)?;
    if !secret.verify(receipt, code) {
        return Err(Refusal::NotFound);
    }
    crate::caught_up(state).await;
    let (view, version, procedure) = {
        let projections = state.engine.read();
        let case = projections.case(receipt);
        let version = case.map(|c| c.last_position);
        // The item's own step names, as its definition for the case gives them: a clerk's
        // free text (a name, a phone number) is never shown.
        let procedure: Vec<String> = case
            .and_then(|c| c.def.as_deref())
            .map(|d| d.steps.clone())
            .unwrap_or_default();
        (projections.case_view(receipt, now), version, procedure)
    };
    let (Some(view), Some(version)) = (view, version) else {
        return Err(Refusal::NotFound);
    };
    let mut shown = std::collections::HashSet::new();
    let steps = state
        .public_steps
        .steps(state, receipt, version)
        .await
        .map_err(Refusal::Internal)?
        .iter()
        .filter(|(at, step)| *at <= now && procedure.contains(&step.step))
        // Each step once, when it was first completed.
        .filter(|(_, step)| shown.insert(step.step.clone()))
        .map(|(_, step)| step.clone())
        .collect();
    Ok(PublicCase {
        item_name: view.item_name.unwrap_or(view.item),
        unit_name: view.org_name.unwrap_or(view.org),
        receipt: view.stream,
        status: view.status,
        accepted_on: view.accepted_on,
        promised_due_on: view.promised_due_on,
        due_provisional: view.provisional,
        steps,
        concluded_on: view.concluded_on,
        on_time: view.on_time,
        as_of: format(now),
    })
}

/// The most cases whose steps [`Steps`] keeps.
const STEPS_CACHED_MAX: usize = 65_536;

/// The steps each case has completed (with the instant each occurred), as read from its stream,
/// kept with the position of the case's last event: valid while the engine's fold shows the
/// case at that position, so a case looked up again is not read from the log again. Bounded:
/// when full, it starts afresh.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    cached: Mutex<HashMap<String, (u64, CaseSteps)>>,
}

/// A case's steps, each with the instant it occurred.
type CaseSteps = Arc<[(Millis, PublicStep)]>;

impl Steps {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, CaseSteps)>> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The steps of `case`, whose last event the fold shows at position `version`.
    async fn steps(&self, state: &State, case: &str, version: u64) -> Result<CaseSteps, ApiError> {
        if let Some((at, steps)) = self.lock().get(case) {
            if *at == version {
                return Ok(steps.clone());
            }
        }
        let events = state
            .store
            .read_stream(case)
            .await
            .map_err(ApiError::internal)?;
        // Only what the fold had seen: a later event waits for the fold to show it.
        let steps: CaseSteps = events
            .iter()
            .filter(|e| e.position <= version)
            .filter_map(|e| match &e.data {
                EventData::StepCompleted(s) => {
                    let at = e.occurred_at.timestamp_millis();
                    let step = PublicStep {
                        step: s.step.clone(),
                        completed_on: date_of(at),
                    };
                    Some((at, step))
                }
                _ => None,
            })
            .collect();
        let mut cached = self.lock();
        if cached.len() >= STEPS_CACHED_MAX {
            cached.clear();
        }
        cached.insert(case.to_owned(), (version, steps.clone()));
        Ok(steps)
    }
}

/// The query of `GET /public/v1/cases/{receipt}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CodeQuery {
    code: Option<String>,
}

/// The client a public lookup counts against: the TCP peer, or the client a trusted proxy
/// names (`forwarded.rs`).
pub(crate) fn client_of(
    state: &State,
    peer: Option<Extension<ClientAddr>>,
    headers: &axum::http::HeaderMap,
) -> Option<ClientAddr> {
    peer.map(|Extension(c)| ClientAddr(state.trusted_proxies.client(c.0, headers)))
}

/// `GET /public/v1/cases/{receipt}?code=`: the public fields of a case, or the one 404.
pub(crate) async fn case(
    StateExtractor(state): StateExtractor<Arc<State>>,
    peer: Option<Extension<ClientAddr>>,
    headers: axum::http::HeaderMap,
    receipt: Result<Path<String>, PathRejection>,
    query: Result<Query<CodeQuery>, QueryRejection>,
) -> Response {
    let receipt = receipt.map(|Path(r)| r).unwrap_or_default();
    let code = query.ok().and_then(|Query(q)| q.code).unwrap_or_default();
    let client = client_of(&state, peer, &headers);
    match lookup(&state, client, &receipt, &code).await {
        Ok(found) => {
            let mut response = crate::json_response(StatusCode::OK, &found);
            no_store(&mut response);
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Marks an answer about one citizen's case as not to be kept by caches on the way.
pub(crate) fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> PublicSecret {
        PublicSecret::from_bytes(b"0123456789abcdef-test-secret\n").unwrap()
    }

    #[test]
    fn a_code_is_eight_characters_without_look_alikes_and_verifies() {
        let s = secret();
        let code = s.query_code("case-2026-000101");
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.bytes().all(|c| CODE_ALPHABET.contains(&c)), "{code}");
        assert!(!code.contains(['0', '1', 'I', 'O']));
        assert!(s.verify("case-2026-000101", &code));
        assert!(s.verify("case-2026-000101", &code.to_ascii_lowercase()));
        // Another case's code, a changed character, a short or long code: no.
        assert!(!s.verify("case-2026-000102", &code));
        let mut changed = code.clone().into_bytes();
        changed[7] = if changed[7] == b'2' { b'3' } else { b'2' };
        assert!(!s.verify("case-2026-000101", std::str::from_utf8(&changed).unwrap()));
        assert!(!s.verify("case-2026-000101", &code[..7]));
        assert!(!s.verify("case-2026-000101", &format!("{code}2")));
        assert!(!s.verify("case-2026-000101", ""));
        // Another secret gives another code.
        let other = PublicSecret::from_bytes(b"another secret of enough bytes").unwrap();
        assert_ne!(other.query_code("case-2026-000101"), code);
    }

    #[test]
    fn a_code_round_trips_through_its_bits() {
        let s = secret();
        for i in 0..200 {
            let receipt = format!("case-{i}");
            let code = s.query_code(&receipt);
            let (tag, ok) = decode(&code);
            assert!(ok);
            let full = s.mac(&receipt).finalize().into_bytes();
            assert_eq!(&tag[..], &full[..5]);
        }
    }

    #[test]
    fn a_short_or_empty_secret_is_refused_and_never_shown() {
        assert_eq!(PublicSecret::from_bytes(b"").unwrap_err(), 0);
        assert_eq!(PublicSecret::from_bytes(b"short\n\n").unwrap_err(), 5);
        let s = PublicSecret::from_bytes(b"a secret that is long enough").unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret that"), "{shown}");
        // Trailing line breaks do not change the secret.
        let crlf = PublicSecret::from_bytes(b"a secret that is long enough\r\n").unwrap();
        assert_eq!(s.query_code("case-1"), crlf.query_code("case-1"));
    }
}
