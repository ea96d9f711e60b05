//! The alerts of a settled case, kept beside the case index (`jiancha_store::KeptAlerts`): a
//! case that ended, whose events all occurred and were entered by an instant T, and that no
//! later calendar change or late entry can judge otherwise, shows at T exactly the alerts the
//! whole log's fold ended with (the clock raises nothing more on an ended case). A question at
//! T reads them instead of folding the case's events again; [`Projections::kept_alerts`]
//! renders them as [`Projections::case_alerts`] renders a folded case's.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::case::Alert;
use crate::{AlertView, Millis, Projections};

/// The first byte of every encoding: a body of another format is refused, never misread.
const FORMAT: u8 = 1;

/// What is kept of a settled case: its item (for the item's name at T) and its alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptCase {
    /// The item applied for.
    pub item: Arc<str>,
    /// Every alert the case ended with.
    pub alerts: Vec<Alert>,
}

/// A kept body that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("the kept alerts of {stream} cannot be read ({reason})")]
pub struct KeptError {
    /// The case stream.
    pub stream: String,
    /// What is wrong with the body.
    pub reason: String,
}

impl KeptCase {
    /// What to keep of `stream` from a fold that holds it.
    pub fn of(p: &Projections, stream: &str) -> Option<KeptCase> {
        p.case(stream).map(|c| KeptCase {
            item: c.item.clone(),
            alerts: c.alerts.clone(),
        })
    }

    /// The body to keep.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT];
        // Writing into a vector fails only on a serializer error, which these types (strings,
        // integers, enums) never raise: an empty body would then be refused when read.
        if let Ok(body) = postcard::to_allocvec(self) {
            out.extend(body);
        }
        out
    }

    /// Reads a body kept for `stream`.
    pub fn decode(stream: &str, body: &[u8]) -> Result<KeptCase, KeptError> {
        let error = |reason: String| KeptError {
            stream: stream.to_owned(),
            reason,
        };
        match body.split_first() {
            Some((&FORMAT, rest)) => postcard::from_bytes(rest).map_err(|e| error(e.to_string())),
            Some((other, _)) => Err(error(format!(
                "format {other}, this version reads {FORMAT}"
            ))),
            None => Err(error("empty".to_owned())),
        }
    }
}

impl Projections {
    /// The alerts at `now` of a settled case kept as `kept`: those raised by `now`, named with
    /// this fold's catalog, in the order of [`Projections::alerts`].
    pub fn kept_alerts(&self, stream: &str, kept: &KeptCase, now: Millis) -> Vec<AlertView> {
        // Named as `AlertView::named` names them, each name looked up once a case.
        let item_name = self.catalog.item_name(&kept.item).map(str::to_owned);
        let mut org: Option<(&str, Option<String>)> = None;
        let mut out: Vec<AlertView> = Vec::with_capacity(kept.alerts.len());
        for a in kept.alerts.iter().filter(|a| a.raised_at <= now) {
            let mut view = AlertView::new(stream, a, now);
            view.item_name = item_name.clone();
            view.org_name = match &org {
                Some((path, name)) if *path == &*a.org => name.clone(),
                _ => {
                    let name = self.catalog.org_name(&a.org).map(str::to_owned);
                    org = Some((&a.org, name.clone()));
                    name
                }
            };
            out.push(view);
        }
        crate::evaluate::sort_alerts(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_of_another_format_or_empty_is_refused() {
        let kept = KeptCase {
            item: Arc::from("item-1"),
            alerts: Vec::new(),
        };
        let body = kept.encode();
        assert_eq!(KeptCase::decode("case-1", &body).ok(), Some(kept));
        let mut other = body.clone();
        other[0] = FORMAT + 1;
        let e = KeptCase::decode("case-1", &other)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("case-1") && e.contains("format 2")));
        assert!(KeptCase::decode("case-1", &[]).is_err());
        assert!(KeptCase::decode("case-1", &[FORMAT, 0xff, 0xff]).is_err());
    }
}
