//! The limits enforced at the edge, as named constants ([`Limits`] carries them, so a test or a
//! deployment may change one), the per-token rate limiter (a token bucket per token that holds
//! one second's worth of requests and refills continuously) and the per-address limiter of the
//! public lookup ([`ClientLimiter`]: a minute's worth of lookups per client address, in a table
//! of bounded size, timed by the engine's clock).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{ApiError, ErrorKind};

/// The largest request body, in bytes (413 beyond it).
pub const BODY_BYTES_MAX: usize = 8 << 20;
/// The most events in one `POST /api/v1/events` (413 beyond it).
pub const EVENTS_PER_BATCH_MAX: usize = 5_000;
/// The largest body of a supervision act (acknowledge, correction order, exemption).
pub const ACTION_BODY_BYTES_MAX: usize = 16 << 10;
/// The most live alert streams at once (503 beyond it).
pub const SSE_SUBSCRIBERS_MAX: usize = 256;
/// The most live alert streams one token holds at once (429 beyond it): one unit's dashboards
/// cannot take every slot. The open caller (no auth file) is one trusted operator and is not
/// held to it.
pub const SSE_STREAMS_PER_TOKEN_MAX: usize = 32;
/// The live alert streams only the bureau (a supervisor token, or the open caller) may take:
/// however many streams the other tokens hold, the bureau still gets one.
pub const SSE_RESERVED_FOR_SUPERVISORS: usize = 32;
/// The most open connections (`jiancha serve --max-connections`). A new connection beyond it
/// closes the connection that has waited longest for a request (a half-sent request head or an
/// idle keep-alive connection); when every connection is busy with a request, the new one is
/// closed at once. Keep it well below the process's open-file limit (`ulimit -n`).
pub const CONNECTIONS_MAX: usize = 1_000;
/// How long a client has to send a whole request head: from the connection's opening, or from
/// the first byte of a later request on a kept-alive connection (`--header-timeout`).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request's body may take to arrive whole (408 beyond it; `--body-timeout`).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a kept-alive connection may sit idle between requests before it is closed
/// (`--idle-timeout`). A live stream is never idle: it is a request in progress.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Requests per second per token (429 beyond it); the bucket holds one second's worth.
pub const REQUESTS_PER_TOKEN_PER_SECOND: u32 = 2_000;
/// The live messages kept for streams that reconnect (`Last-Event-ID`); older ones are gone and
/// such a client is told to reload.
pub const JOURNAL_MESSAGES_MAX: usize = 10_000;
/// The most alerts one `GET /api/v1/alerts` returns (`limit` may ask for fewer).
pub const ALERTS_PAGE_MAX: usize = 10_000;
/// Most cases a case list page holds (`GET /api/v1/cases?limit=`, also the default).
pub const CASES_PAGE_MAX: usize = 10_000;

/// A page's size from its `limit` parameter: `max` when absent, at most `max`; 0 is refused
/// (400 naming `limit`): an empty page without a cursor would read as the last one.
pub(crate) fn page_limit(limit: Option<usize>, max: usize) -> Result<usize, ApiError> {
    match limit {
        None => Ok(max),
        // Refused beyond the page's size too, as the message says (the cursor pages on).
        Some(n) if n == 0 || n > max => {
            Err(ApiError::invalid(format!("limit: 1 to {max}, got {n}")).field("limit"))
        }
        Some(n) => Ok(n),
    }
}
/// Chain verifications running at once (429 beyond it).
pub const VERIFICATIONS_MAX: usize = 1;
/// Public progress lookups (`/public/v1/cases/…`, `/public/lookup`) per client address per
/// minute (429 with `Retry-After` beyond it; `jiancha serve --public-lookups-per-minute`).
pub const PUBLIC_LOOKUPS_PER_MINUTE: u32 = 30;
/// The most client addresses the public lookup's limiter remembers. When the table is full,
/// the addresses whose allowance has refilled are forgotten (they are as good as new); if none
/// has, the one closest to refilled is.
pub const PUBLIC_CLIENTS_MAX: usize = 65_536;
/// How long a read waits for the engine to fold in what was committed before it (so it sees
/// the appends answered before it) before answering from the fold as it stands.
pub const ENGINE_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// The limits a server runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// [`BODY_BYTES_MAX`].
    pub body_bytes_max: usize,
    /// [`EVENTS_PER_BATCH_MAX`].
    pub events_per_batch_max: usize,
    /// [`SSE_SUBSCRIBERS_MAX`].
    pub sse_subscribers_max: usize,
    /// [`REQUESTS_PER_TOKEN_PER_SECOND`].
    pub requests_per_token_per_second: u32,
    /// [`JOURNAL_MESSAGES_MAX`].
    pub journal_messages_max: usize,
    /// [`SSE_STREAMS_PER_TOKEN_MAX`].
    pub sse_streams_per_token_max: usize,
    /// [`SSE_RESERVED_FOR_SUPERVISORS`] (at most half of `sse_subscribers_max` is kept back).
    pub sse_reserved_for_supervisors: usize,
    /// [`CONNECTIONS_MAX`].
    pub connections_max: usize,
    /// [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// [`BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// [`IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// [`PUBLIC_LOOKUPS_PER_MINUTE`] (at least 1).
    pub public_lookups_per_minute: u32,
    /// [`PUBLIC_CLIENTS_MAX`].
    pub public_clients_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes_max: BODY_BYTES_MAX,
            events_per_batch_max: EVENTS_PER_BATCH_MAX,
            sse_subscribers_max: SSE_SUBSCRIBERS_MAX,
            requests_per_token_per_second: REQUESTS_PER_TOKEN_PER_SECOND,
            journal_messages_max: JOURNAL_MESSAGES_MAX,
            sse_streams_per_token_max: SSE_STREAMS_PER_TOKEN_MAX,
            sse_reserved_for_supervisors: SSE_RESERVED_FOR_SUPERVISORS,
            connections_max: CONNECTIONS_MAX,
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            public_lookups_per_minute: PUBLIC_LOOKUPS_PER_MINUTE,
            public_clients_max: PUBLIC_CLIENTS_MAX,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Option<Instant>,
}

/// One token bucket per token (index 0 for the open caller): bounded by the auth file.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: u32,
    buckets: Vec<Mutex<Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(per_second: u32, tokens: usize) -> Self {
        let full = Bucket {
            tokens: f64::from(per_second),
            at: None,
        };
        RateLimiter {
            per_second,
            buckets: (0..=tokens).map(|_| Mutex::new(full)).collect(),
        }
    }

    /// Takes one request from the bucket, or refuses with 429.
    pub(crate) fn check(&self, bucket: usize) -> Result<(), ApiError> {
        let Some(slot) = self.buckets.get(bucket) else {
            return Ok(());
        };
        let rate = f64::from(self.per_second);
        let now = Instant::now();
        let mut b = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = b.at {
            let refill = now.saturating_duration_since(at).as_secs_f64() * rate;
            b.tokens = (b.tokens + refill).min(rate);
        }
        b.at = Some(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        Err(ApiError::new(
            ErrorKind::TooManyRequests,
            format!(
                "more than {} requests per second with this token: slow down and retry",
                self.per_second
            ),
        ))
    }
}

/// The key a client is limited under: an IPv4 address, or the /64 prefix of an IPv6 one (a
/// single subscriber usually holds a whole /64). An IPv4-mapped IPv6 address is its IPv4.
fn client_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => (u128::from(v6) >> 64 << 64) | u128::from(u64::MAX),
        },
    }
}

/// The public lookup's limiter: per client address, a generic cell rate algorithm (GCRA)
/// allowing `per_minute` lookups a minute, spread or in one burst: a burst of `per_minute`, then
/// one every `60 / per_minute` seconds (so at most `2 × per_minute − 1` in any one minute, and
/// `per_minute` a minute over time). Each address keeps one
/// instant (its "theoretical arrival time"); an address whose instant has passed is as good as
/// absent, which is what bounds the table. Time is the engine's clock, in milliseconds.
#[derive(Debug)]
pub(crate) struct ClientLimiter {
    /// Microseconds one lookup costs.
    cost_us: i128,
    /// Microseconds of cost an address may run ahead of the clock (a minute less one cost).
    burst_us: i128,
    cap: usize,
    table: Mutex<HashMap<u128, i128>>,
}

impl ClientLimiter {
    pub(crate) fn new(per_minute: u32, cap: usize) -> Self {
        let cost_us = (60_000_000 / i128::from(per_minute.max(1))).max(1);
        ClientLimiter {
            cost_us,
            burst_us: 60_000_000 - cost_us,
            cap: cap.max(1),
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one lookup from `client` at `now_ms`, or refuses it with the whole seconds to
    /// wait before the next one is allowed.
    pub(crate) fn check(&self, client: IpAddr, now_ms: i64) -> Result<(), u64> {
        let now = i128::from(now_ms) * 1_000;
        let key = client_key(client);
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = table.get(&key).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > self.burst_us {
            let wait_us = ahead - self.burst_us;
            let secs = (wait_us + 999_999) / 1_000_000;
            return Err(u64::try_from(secs).unwrap_or(u64::MAX).max(1));
        }
        if !table.contains_key(&key) && table.len() >= self.cap {
            table.retain(|_, t| *t > now);
            if table.len() >= self.cap {
                let closest = table
                    .iter()
                    .min_by_key(|(k, t)| (**t, **k))
                    .map(|(k, _)| *k);
                if let Some(k) = closest {
                    table.remove(&k);
                }
            }
        }
        table.insert(key, tat + self.cost_us);
        Ok(())
    }

    /// How many addresses the table holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_a_minutes_worth_then_waits() {
        let limiter = ClientLimiter::new(30, 100);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t = 1_700_000_000_000;
        for _ in 0..30 {
            limiter.check(a, t).unwrap();
        }
        assert_eq!(limiter.check(a, t), Err(2));
        // Another address is not held to it.
        limiter.check(b, t).unwrap();
        // One lookup's worth (2 s) later, one more; not two.
        assert_eq!(limiter.check(a, t + 1_999), Err(1));
        limiter.check(a, t + 2_000).unwrap();
        assert!(limiter.check(a, t + 2_000).is_err());
        // A minute later the whole allowance is back.
        for _ in 0..30 {
            limiter.check(a, t + 62_000).unwrap();
        }
        assert!(limiter.check(a, t + 62_000).is_err());
    }

    #[test]
    fn an_ipv6_subscriber_is_one_client_and_a_mapped_ipv4_is_its_ipv4() {
        let limiter = ClientLimiter::new(2, 100);
        let t = 0;
        limiter
            .check("2001:db8:1:2::1".parse().unwrap(), t)
            .unwrap();
        limiter
            .check("2001:db8:1:2::ffff".parse().unwrap(), t)
            .unwrap();
        assert!(limiter
            .check("2001:db8:1:2:3::9".parse().unwrap(), t)
            .is_err());
        limiter
            .check("2001:db8:1:3::1".parse().unwrap(), t)
            .unwrap();
        limiter.check("10.0.0.1".parse().unwrap(), t).unwrap();
        limiter
            .check("::ffff:10.0.0.1".parse().unwrap(), t)
            .unwrap();
        assert!(limiter.check("10.0.0.1".parse().unwrap(), t).is_err());
    }

    #[test]
    fn the_table_never_grows_past_its_cap() {
        let limiter = ClientLimiter::new(30, 8);
        let t = 0;
        for i in 0..100u32 {
            limiter.check(IpAddr::V4(i.into()), t).unwrap();
            assert!(limiter.len() <= 8);
        }
        // Once their allowance refilled, the old addresses are swept, not the busy one.
        let busy: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..30 {
            limiter.check(busy, 120_000).unwrap();
        }
        for i in 0..7u32 {
            limiter
                .check(IpAddr::V4((1000 + i).into()), 120_000)
                .unwrap();
        }
        assert!(limiter.check(busy, 120_000).is_err());
        assert_eq!(limiter.len(), 8);
    }

    #[test]
    fn a_bucket_holds_one_seconds_worth() {
        let limiter = RateLimiter::new(3, 1);
        for _ in 0..3 {
            limiter.check(1).unwrap();
        }
        let refused = limiter.check(1).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::TooManyRequests);
        // Another token's bucket is its own.
        limiter.check(0).unwrap();
    }
}
