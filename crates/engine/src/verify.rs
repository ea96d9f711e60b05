//! Verification of a log and of everything kept beside it: the one implementation behind
//! `jiancha verify` and `GET /api/v1/verify`. The chain is walked by the store's verifier
//! (`jiancha_store::verify`); while it walks, the projections are folded again and compared
//! with every stored snapshot at the position it names, so a snapshot forged together with its
//! digest is reported by name. The case index kept beside the log is rebuilt in the same walk
//! and compared with the stored one ([`crate::index_verify`]). A break found marks the store
//! broken, so that its writer refuses appends from then on.

use jiancha_events::{ChainBreak, Hash, RawEvent, StoredEvent, GENESIS_HASH};
use jiancha_projections::snapshot::{header, SNAPSHOT_FORMAT};
use jiancha_projections::Projections;
use jiancha_store::{EventStore, StoreError};

use crate::index_verify::{Differences, Rebuild, Stored};
use crate::snapshots::{unseal, SealError};

/// What to verify.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions {
    /// Start after this checkpoint position (0: the whole log, and the snapshots).
    pub from: u64,
    /// The attested hash at `from` (or, when `from` is 0, of the head).
    pub attested: Option<Hash>,
    /// Note a checkpoint every this many positions (0: none but the head).
    pub every: u64,
}

/// Why verification could not run.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The checkpoint to start from is not in the log.
    #[error("the log has no event at position {0} to start from")]
    NoSuchPosition(u64),
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What verification found about one stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotVerdict {
    /// It holds exactly the fold of the log up to its position.
    Matches,
    /// It does not belong to this log (an edited body, a forged state, a head the log does not
    /// hold): tampering.
    Forged(String),
    /// It can never be loaded (an older format, no seal): harmless, rebuilt at the next start.
    Ignored(String),
    /// Not compared (verified from a checkpoint, or the chain breaks before it).
    Unchecked(String),
}

impl SnapshotVerdict {
    /// Its wire name (`GET /verify`) and why, when there is a why.
    pub fn code(&self) -> (&'static str, Option<&str>) {
        match self {
            SnapshotVerdict::Matches => ("matches", None),
            SnapshotVerdict::Forged(why) => ("forged", Some(why)),
            SnapshotVerdict::Ignored(why) => ("ignored", Some(why)),
            SnapshotVerdict::Unchecked(why) => ("unchecked", Some(why)),
        }
    }
}

/// One stored snapshot and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotCheck {
    /// The name it is kept under.
    pub name: String,
    /// The position it is kept for.
    pub position: u64,
    /// What was found.
    pub verdict: SnapshotVerdict,
}

/// What verification found about the stored case index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexVerdict {
    /// No index is stored (nothing was asked at an instant yet).
    Absent,
    /// Every stored row, the state and every kept body say at least what the log gives.
    Matches(Differences),
    /// The stored index says less than the log somewhere: a question at an instant may leave
    /// out a case or read alerts it never had.
    Differs(Differences),
    /// Not compared, and why.
    Unchecked(String),
}

/// The stored case index and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexCheck {
    /// The log position the stored index covers (0: none).
    pub position: u64,
    /// What was found.
    pub verdict: IndexVerdict,
}

/// What verification found about the figures a period's close keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseVerdict {
    /// They hash to the close's digest.
    Kept,
    /// The close keeps none (written before closes kept them, or too large).
    NotKept,
    /// They are not the figures the digest fixes, and why.
    Differs(String),
}

impl CloseVerdict {
    /// Its wire name (`GET /verify`) and why, when there is a why.
    pub fn code(&self) -> (&'static str, Option<&str>) {
        match self {
            CloseVerdict::Kept => ("kept", None),
            CloseVerdict::NotKept => ("not_kept", None),
            CloseVerdict::Differs(why) => ("differs", Some(why)),
        }
    }
}

/// A period's close and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseCheck {
    /// The period.
    pub period: String,
    /// Where the `PeriodClosed` event is.
    pub position: u64,
    /// What was found.
    pub verdict: CloseVerdict,
}

impl CloseCheck {
    /// The check of the close `event` records, if it is one.
    fn of(event: &jiancha_events::StoredEvent) -> Option<CloseCheck> {
        let (closed, kept) = crate::closing::Closed::of_event(event)?;
        let verdict = match kept.map(|text| crate::closing::check_kept(&closed, text)) {
            None => CloseVerdict::NotKept,
            Some(Ok(_)) => CloseVerdict::Kept,
            Some(Err(e)) => CloseVerdict::Differs(e.to_string()),
        };
        Some(CloseCheck {
            period: closed.period,
            position: closed.event_position,
            verdict,
        })
    }
}

/// What verification found.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The checkpoint it started after (0: the whole log).
    pub start: u64,
    /// Events checked.
    pub checked: u64,
    /// The last position that holds.
    pub last_position: u64,
    /// Its stored hash.
    pub head: Hash,
    /// Checkpoint heads every `every` positions.
    pub checkpoints: Vec<(u64, Hash)>,
    /// The first position that does not hold.
    pub broken: Option<ChainBreak>,
    /// Whether the chain holds to its head but that head is not the attested one (`broken`
    /// then names the head): an event rewritten with its hash, or events missing or added at
    /// the end.
    pub attested_differs: bool,
    /// Every stored snapshot, by name.
    pub snapshots: Vec<SnapshotCheck>,
    /// The stored case index.
    pub index: IndexCheck,
    /// Every period's close walked, with the figures it keeps.
    pub closes: Vec<CloseCheck>,
}

impl Verification {
    /// Whether the chain holds, no snapshot was forged, the case index says nothing less than
    /// the log and every close's kept figures are the ones its digest fixes.
    pub fn ok(&self) -> bool {
        self.broken.is_none()
            && self.forged().next().is_none()
            && !matches!(self.index.verdict, IndexVerdict::Differs(_))
            && self.differing_closes().next().is_none()
    }

    /// The closes whose kept figures are not the ones their digest fixes.
    pub fn differing_closes(&self) -> impl Iterator<Item = (&CloseCheck, &str)> {
        self.closes.iter().filter_map(|c| match &c.verdict {
            CloseVerdict::Differs(why) => Some((c, why.as_str())),
            _ => None,
        })
    }

    /// The snapshots found forged.
    pub fn forged(&self) -> impl Iterator<Item = (&SnapshotCheck, &str)> {
        self.snapshots.iter().filter_map(|s| match &s.verdict {
            SnapshotVerdict::Forged(why) => Some((s, why.as_str())),
            _ => None,
        })
    }
}

/// A snapshot being compared: the fold rebuilt towards its position.
struct Target {
    index: usize,
    position: u64,
    head: Hash,
    body: Vec<u8>,
    fold: Option<Projections>,
}

impl Target {
    fn feed(&mut self, raw: &RawEvent, event: &StoredEvent) -> Option<(usize, SnapshotVerdict)> {
        let fold = self.fold.as_mut()?;
        fold.apply(event);
        if raw.position != self.position {
            return None;
        }
        let fold = self.fold.take()?;
        let verdict = if raw.hash != self.head {
            SnapshotVerdict::Forged(format!(
                "it names hash {} at position {}, where the log holds {}",
                self.head, raw.position, raw.hash
            ))
        } else {
            match fold.snapshot(raw.hash) {
                Ok(bytes) if bytes == self.body => SnapshotVerdict::Matches,
                Ok(_) => SnapshotVerdict::Forged(format!(
                    "its state differs from the log's fold up to position {}",
                    raw.position
                )),
                Err(e) => SnapshotVerdict::Forged(e.to_string()),
            }
        };
        Some((self.index, verdict))
    }
}

/// Verifies the log after `options.from` and, from the start, every stored snapshot; marks the
/// store broken at the first break found.
pub async fn verify(
    store: &dyn EventStore,
    options: VerifyOptions,
) -> Result<Verification, VerifyError> {
    let (start, anchor) = anchor(store, options).await?;
    let mut v = Verification {
        start,
        checked: 0,
        last_position: start,
        head: anchor,
        checkpoints: Vec::new(),
        broken: None,
        attested_differs: false,
        snapshots: Vec::new(),
        index: IndexCheck {
            position: 0,
            verdict: IndexVerdict::Unchecked("verified from a checkpoint".into()),
        },
        closes: Vec::new(),
    };
    if let Some(h) = options.attested.filter(|h| start > 0 && *h != anchor) {
        let b = ChainBreak {
            position: start,
            reason: format!("stored hash {anchor} differs from the attested {h}"),
        };
        store.mark_broken(b.clone());
        v.broken = Some(b);
        return Ok(v);
    }
    let mut targets = snapshot_targets(store, start, &mut v.snapshots).await?;
    let index_state = store.index_state().await?;
    let index_position = index_state.position;
    v.index.position = index_position;
    // An index another build's fold wrote is never read by this one (its first catch-up
    // builds it again): not compared, and said so.
    let foreign = index_position > 0
        && index_state.fold_format != jiancha_projections::snapshot::SNAPSHOT_FORMAT;
    // From the start only: the rebuild folds the whole log.
    let mut rebuild =
        (start == 0 && index_position > 0 && !foreign).then(|| Rebuild::towards(index_position));
    let mut checkpoints = Vec::new();
    let mut verdicts = Vec::new();
    let mut closes = Vec::new();
    let walked = jiancha_store::verify::walk(store, start, anchor, |raw, event| {
        closes.extend(CloseCheck::of(event));
        if options.every > 0 && raw.position.is_multiple_of(options.every) {
            checkpoints.push((raw.position, raw.hash));
        }
        verdicts.extend(targets.iter_mut().filter_map(|t| t.feed(raw, event)));
        if let Some(r) = rebuild.as_mut() {
            r.feed(event);
        }
    })
    .await?;
    v.checkpoints = checkpoints;
    v.closes = closes;
    v.checked = walked.walk.checked();
    v.last_position = walked.walk.last_position();
    v.head = walked.walk.head();
    v.broken = walked.broken;
    // An attested head is checked against a chain that holds: a break before the head is
    // the first bad position, and the one to name.
    let walked_whole = v.broken.is_none();
    if let Some(h) = options
        .attested
        .filter(|h| walked_whole && start == 0 && *h != v.head)
    {
        v.attested_differs = true;
        v.broken = Some(ChainBreak {
            position: v.last_position,
            reason: format!("head {} differs from the attested {h}", v.head),
        });
    }
    for (index, verdict) in verdicts {
        v.snapshots[index].verdict = verdict;
    }
    for t in targets.iter().filter(|t| t.fold.is_some()) {
        v.snapshots[t.index].verdict = match &v.broken {
            Some(b) => SnapshotVerdict::Unchecked(format!("the chain breaks at {}", b.position)),
            None => SnapshotVerdict::Forged(format!(
                "it covers position {}, past the log's head {}",
                t.position, v.last_position
            )),
        };
    }
    if foreign {
        v.index.verdict = IndexVerdict::Unchecked(format!(
            "written by another build's fold (format {}, this one {}): the next question at an \
             instant builds it again",
            index_state.fold_format,
            jiancha_projections::snapshot::SNAPSHOT_FORMAT
        ));
    } else if start == 0 {
        v.index.verdict = index_verdict(store, rebuild, &v).await?;
    }
    if let Some(b) = &v.broken {
        store.mark_broken(b.clone());
    }
    Ok(v)
}

/// The stored index compared with its rebuild, once the walk is done.
async fn index_verdict(
    store: &dyn EventStore,
    rebuild: Option<Rebuild>,
    v: &Verification,
) -> Result<IndexVerdict, StoreError> {
    let Some(rebuild) = rebuild else {
        return Ok(IndexVerdict::Absent);
    };
    if !rebuild.reached() {
        return Ok(match &v.broken {
            Some(b) => IndexVerdict::Unchecked(format!(
                "it covers position {}, and the chain breaks at {}",
                rebuild.position, b.position
            )),
            None => IndexVerdict::Differs(Differences::one(format!(
                "it covers position {}, past the log's head {}",
                rebuild.position, v.last_position
            ))),
        });
    }
    Ok(match Stored::read(store, rebuild.position).await? {
        None => IndexVerdict::Unchecked(format!(
            "another process brought it forward from position {} while the log was walked; \
             verify again",
            rebuild.position
        )),
        Some(stored) => {
            let d: Differences = rebuild.compare(&stored);
            if d.count == 0 {
                IndexVerdict::Matches(d)
            } else {
                IndexVerdict::Differs(d)
            }
        }
    })
}

/// Where verification starts: after `from`, linking to the hash stored there.
async fn anchor(
    store: &dyn EventStore,
    options: VerifyOptions,
) -> Result<(u64, Hash), VerifyError> {
    if options.from == 0 {
        return Ok((0, GENESIS_HASH));
    }
    let row = store.read_raw_after(options.from - 1, 1).await?;
    match row.first().filter(|r| r.position == options.from) {
        Some(raw) => Ok((options.from, raw.hash)),
        None => Err(VerifyError::NoSuchPosition(options.from)),
    }
}

/// Reads every stored snapshot: the ones that can be compared become targets of the walk, the
/// others get their verdict at once.
async fn snapshot_targets(
    store: &dyn EventStore,
    start: u64,
    checks: &mut Vec<SnapshotCheck>,
) -> Result<Vec<Target>, StoreError> {
    let mut targets = Vec::new();
    for name in store.snapshot_names().await? {
        let Some((position, bytes)) = store.load_snapshot(&name).await? else {
            continue;
        };
        let index = checks.len();
        let verdict = if start > 0 {
            SnapshotVerdict::Unchecked("verified from a checkpoint".into())
        } else {
            match target(index, position, &bytes) {
                Ok(t) => {
                    targets.push(t);
                    SnapshotVerdict::Unchecked("not reached".into())
                }
                Err(verdict) => verdict,
            }
        };
        checks.push(SnapshotCheck {
            name,
            position,
            verdict,
        });
    }
    Ok(targets)
}

/// A snapshot to compare with the rebuilt fold, or its verdict when it cannot be compared.
fn target(index: usize, position: u64, bytes: &[u8]) -> Result<Target, SnapshotVerdict> {
    let body = match unseal(bytes) {
        Ok(body) => body,
        Err(e @ SealError::Unsealed) => return Err(SnapshotVerdict::Ignored(e.to_string())),
        Err(e @ SealError::Digest) => return Err(SnapshotVerdict::Forged(e.to_string())),
    };
    let forged = |why: String| SnapshotVerdict::Forged(format!("sealed, but {why}"));
    let head = header(body).map_err(|e| forged(e.to_string()))?;
    if head.format != SNAPSHOT_FORMAT {
        return Err(SnapshotVerdict::Ignored(format!(
            "format {}, not the current {SNAPSHOT_FORMAT}",
            head.format
        )));
    }
    if head.position != position {
        return Err(forged(format!(
            "kept for position {position} and covering {}",
            head.position
        )));
    }
    let (state, _) = Projections::restore(body).map_err(|e| forged(e.to_string()))?;
    // The fold is rebuilt with the thresholds and scoring the snapshot was taken with; one
    // taken with others is never loaded by an engine that uses others.
    let mut fold = Projections::new(state.config);
    if let Some(ledger) = state.ledger() {
        fold = fold.with_ledger(ledger.scoring);
    }
    Ok(Target {
        index,
        position,
        head: head.head,
        body: body.to_vec(),
        fold: Some(fold),
    })
}
