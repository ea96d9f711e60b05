//! Group commit: the writer takes the first queued append, opens a transaction while the
//! appends queued behind it gather, reads what their plans need in one lookup, plans each batch
//! on its own (a refused batch is answered with its refusal and skipped) and inserts every
//! accepted row in one round trip with the commit. Every caller is answered after the commit.

use std::future::Future;
use std::task::Poll;

use jiancha_events::{NewEvent, RawEvent};
use tokio::sync::mpsc;

use super::handle::{Reply, Request};
use super::lookup::Prefetch;
use super::{LogConnection, PlannedIds, Tagged, Writer};
use crate::error::StoreError;
use crate::plan::{plan_batch, Planned, TxState};
use crate::{AppendOutcome, GROUP_EVENTS_MAX};

/// An append waiting for its group: the events, the org path it is scoped to, the caller.
type Pending = (Vec<NewEvent>, Option<String>, Reply<AppendOutcome>);

impl<C: LogConnection> Writer<C> {
    /// Commits `first` with the appends queued behind it, in one transaction. Returns a request
    /// of another kind met while gathering, to be handled next.
    pub(super) async fn append_group(
        &mut self,
        first: Pending,
        requests: &mut mpsc::Receiver<Request>,
    ) -> Option<Request> {
        let mut group = vec![first];
        let (begun, held) = {
            // The transaction is opened while the group gathers: the first poll hands `BEGIN`
            // to the database, which takes it while callers send.
            let mut begin = std::pin::pin!(self.begin(PlannedIds::Keep));
            let early = std::future::poll_fn(|cx| Poll::Ready(begin.as_mut().poll(cx))).await;
            let held = gather(requests, &mut group).await;
            let begun = match early {
                Poll::Ready(begun) => begun,
                Poll::Pending => begin.await,
            };
            (begun, held)
        };
        match begun {
            Ok(state) => self.commit_group(state, group).await,
            Err(e) => fail_all(group.into_iter().map(|(_, _, r)| r), &e),
        }
        held
    }

    /// One transaction for a group of appends: one lookup of their streams and ids, each batch
    /// planned on its own (a refused batch is skipped), all rows inserted together.
    async fn commit_group(&mut self, mut state: TxState, group: Vec<Pending>) {
        let batches: Vec<(Tagged, Option<String>, Reply<AppendOutcome>)> = group
            .into_iter()
            .map(|(events, scope, reply)| {
                let tagged = events
                    .into_iter()
                    .zip(0u64..)
                    .map(|(e, i)| (i, e))
                    .collect();
                (tagged, scope, reply)
            })
            .collect();
        let all: Vec<&(u64, NewEvent)> = batches.iter().flat_map(|(b, _, _)| b).collect();
        let scoped: Vec<&(u64, NewEvent)> = batches
            .iter()
            .filter(|(_, scope, _)| scope.is_some())
            .flat_map(|(b, _, _)| b)
            .collect();
        // Owners are followed through the group only when a batch of it is scoped: an
        // unscoped batch before it may move a case the scoped one writes to.
        state.track_owners = !scoped.is_empty();
        let looked_up = match self.prefetch(&mut state, &all, Prefetch::LookedUp).await {
            Ok(mut ids) => self
                .fetch_owners(&state, &scoped, &mut ids.owners)
                .await
                .map(|()| ids),
            Err(e) => Err(e),
        };
        let ids = match looked_up {
            Ok(ids) => ids,
            Err(e) => {
                self.rollback().await;
                return fail_all(batches.into_iter().map(|(_, _, r)| r), &e);
            }
        };
        let mut answers = Vec::with_capacity(batches.len());
        let mut rows: Vec<Box<RawEvent>> = Vec::new();
        for (events, scope, reply) in batches {
            match plan_batch(&state, &ids, &events, scope.as_deref()) {
                Ok((planned, delta)) => {
                    state.apply(delta);
                    let positions = planned.iter().map(planned_position).collect();
                    let mut appended = 0;
                    for p in planned {
                        if let Planned::New(raw) = p {
                            rows.push(raw);
                            appended += 1;
                        }
                    }
                    let outcome = AppendOutcome {
                        positions,
                        appended,
                    };
                    answers.push((reply, Ok(outcome)));
                }
                Err(r) => answers.push((reply, Err(StoreError::Rejected(r)))),
            }
        }
        let refs: Vec<&RawEvent> = rows.iter().map(|r| &**r).collect();
        let advanced_to = (!refs.is_empty()).then_some(state.head.position);
        let written = match self.conn.insert_and_commit(&refs, advanced_to).await {
            Ok(()) => {
                self.committed(state);
                Ok(())
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        };
        if let Err(e) = written {
            return fail_all(answers.into_iter().map(|(r, _)| r), &e);
        }
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
    }
}

fn planned_position(p: &Planned) -> u64 {
    match p {
        Planned::Duplicate(pos) => *pos,
        Planned::New(raw) => raw.position,
    }
}

/// Gathers queued appends into `group` until the queue stays empty across one yield: callers
/// answered by the last commit get to send their next append into this group instead of
/// waiting out a commit of half the callers. Returns a request of another kind that ended the
/// gathering, to be handled next.
async fn gather(
    requests: &mut mpsc::Receiver<Request>,
    group: &mut Vec<Pending>,
) -> Option<Request> {
    let mut size: usize = group.iter().map(|(events, _, _)| events.len()).sum();
    let mut yielded = false;
    while size < GROUP_EVENTS_MAX {
        match requests.try_recv() {
            Ok(Request::Append {
                events,
                scope,
                reply,
            }) => {
                size += events.len();
                group.push((events, scope, reply));
                yielded = false;
            }
            Ok(other) => return Some(other),
            Err(_) if !yielded => {
                tokio::task::yield_now().await;
                yielded = true;
            }
            Err(_) => break,
        }
    }
    None
}

/// Answers every caller of a failed group with the same failure.
fn fail_all<T>(replies: impl Iterator<Item = Reply<T>>, error: &StoreError) {
    for reply in replies {
        let copy = match error {
            StoreError::ChainBroken(b) => StoreError::ChainBroken(b.clone()),
            other => StoreError::GroupFailed(other.to_string()),
        };
        let _ = reply.send(Err(copy));
    }
}
