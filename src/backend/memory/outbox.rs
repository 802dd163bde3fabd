//! An in-process outbox: the embedded default for a single process, and the reference the Redis
//! outbox is tested against. Nothing survives a restart of the process.
//!
//! It keeps the semantics of [`RedisOutbox`](super::redis::RedisOutbox):
//!
//! - a notice is either *scheduled* (waiting for its time) or *claimed* (handed to a consumer and
//!   not yet acked), never both;
//! - [`IfScheduled::Keep`] leaves a scheduled or claimed notice alone; [`IfScheduled::Replace`]
//!   moves a scheduled one (time and payload) but never disturbs a claimed one;
//! - [`Outbox::claim_due`] hands out, at most `max` in all, first the claims older than
//!   `stale_after` (again, to this consumer, with the same notice and receipt), then the due
//!   notices in the order of their time (ties by id);
//! - an acked notice is gone, and its id can be scheduled again.
//!
//! Time is the caller's: a notice is due when its time is at or before `now`, and a claim is
//! stale when it was made at least `stale_after` before `now` (Redis measures the latter on its
//! own clock).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::notify::{Backlog, Claimed, IfScheduled, Notice, Outbox};
use crate::store::{ChatKey, StoreError};

/// Notices in a map behind a mutex; see the [module documentation](self).
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Notice id → (due, notice).
    scheduled: HashMap<String, (DateTime<Utc>, Notice)>,
    /// Receipt → the claim; receipts are numbered in the order of the claims.
    claimed: BTreeMap<u64, InFlight>,
    /// The number of the next receipt.
    next_receipt: u64,
}

#[derive(Debug)]
struct InFlight {
    claimed_at: DateTime<Utc>,
    consumer: String,
    notice: Notice,
}

impl State {
    fn in_flight(&self, id: &str) -> bool {
        self.claimed.values().any(|claim| claim.notice.id == id)
    }
}

impl MemoryOutbox {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Outbox for MemoryOutbox {
    async fn schedule(
        &self,
        notice: &Notice,
        due: DateTime<Utc>,
        if_scheduled: IfScheduled,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.in_flight(&notice.id) {
            return Ok(false);
        }
        if if_scheduled == IfScheduled::Keep && state.scheduled.contains_key(&notice.id) {
            return Ok(false);
        }
        state
            .scheduled
            .insert(notice.id.clone(), (due, notice.clone()));
        Ok(true)
    }

    async fn cancel_all(&self, notices: &[(ChatKey, &str)]) -> Result<(), StoreError> {
        let mut state = self.state();
        for (_, id) in notices {
            state.scheduled.remove(*id);
        }
        Ok(())
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        consumer: &str,
        max: usize,
        stale_after: std::time::Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        let stale_after = TimeDelta::from_std(stale_after).unwrap_or(TimeDelta::MAX);
        let mut state = self.state();
        let mut handed = Vec::new();

        for (receipt, claim) in state.claimed.iter_mut() {
            if handed.len() >= max {
                break;
            }
            if now.signed_duration_since(claim.claimed_at) >= stale_after {
                tracing::debug!(
                    receipt,
                    from = %claim.consumer,
                    to = consumer,
                    "re-claiming a stale notice"
                );
                claim.claimed_at = now;
                consumer.clone_into(&mut claim.consumer);
                handed.push(Claimed {
                    notice: claim.notice.clone(),
                    receipt: receipt.to_string(),
                });
            }
        }

        let mut due: Vec<(DateTime<Utc>, String)> = state
            .scheduled
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(id, (at, _))| (*at, id.clone()))
            .collect();
        due.sort();
        for (_, id) in due.into_iter().take(max.saturating_sub(handed.len())) {
            let Some((_, notice)) = state.scheduled.remove(&id) else {
                continue;
            };
            let receipt = state.next_receipt;
            state.next_receipt += 1;
            handed.push(Claimed {
                notice: notice.clone(),
                receipt: receipt.to_string(),
            });
            state.claimed.insert(
                receipt,
                InFlight {
                    claimed_at: now,
                    consumer: consumer.to_owned(),
                    notice,
                },
            );
        }
        Ok(handed)
    }

    async fn ack(&self, claimed: &Claimed) -> Result<(), StoreError> {
        // A receipt of another adapter names nothing here: nothing to forget.
        if let Ok(receipt) = claimed.receipt.parse::<u64>() {
            self.state().claimed.remove(&receipt);
        }
        Ok(())
    }

    async fn scheduled_count(&self) -> Result<usize, StoreError> {
        Ok(self.state().scheduled.len())
    }

    async fn backlog(&self, now: DateTime<Utc>) -> Result<Backlog, StoreError> {
        let state = self.state();
        let due = state
            .scheduled
            .values()
            .map(|(due, _)| *due)
            .filter(|d| *d <= now);
        Ok(due.fold(Backlog::default(), |b, d| Backlog {
            due: b.due + 1,
            oldest_due: Some(b.oldest_due.map_or(d, |o| o.min(d))),
        }))
    }

    async fn forget_chat(&self, chat: ChatKey) -> Result<usize, StoreError> {
        let mut state = self.state();
        let before = state.scheduled.len() + state.claimed.len();
        state.scheduled.retain(|_, (_, notice)| notice.chat != chat);
        state.claimed.retain(|_, claim| claim.notice.chat != chat);
        Ok(before - state.scheduled.len() - state.claimed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::NoticeKind;
    use chrono::TimeZone;
    use std::time::Duration;

    fn notice(id: &str) -> Notice {
        Notice {
            id: id.to_owned(),
            chat: ChatKey::telegram(7),
            kind: NoticeKind::NewApplication {
                application_id: id.to_owned(),
            },
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + seconds, 0)
            .single()
            .unwrap_or_else(|| panic!("a valid time"))
    }

    #[tokio::test]
    async fn a_manual_clock_decides_what_is_due_and_what_is_stale() {
        let outbox = MemoryOutbox::new();
        let minute = Duration::from_secs(60);
        assert!(outbox
            .schedule(&notice("b"), at(10), IfScheduled::Keep)
            .await
            .unwrap());
        assert!(outbox
            .schedule(&notice("a"), at(10), IfScheduled::Keep)
            .await
            .unwrap());
        assert!(outbox
            .claim_due(at(9), "x", 10, minute)
            .await
            .unwrap()
            .is_empty());
        let claimed = outbox.claim_due(at(10), "x", 10, minute).await.unwrap();
        let ids: Vec<_> = claimed.iter().map(|c| c.notice.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"], "same time: by id");
        assert!(outbox
            .claim_due(at(69), "y", 10, minute)
            .await
            .unwrap()
            .is_empty());
        let again = outbox.claim_due(at(70), "y", 1, minute).await.unwrap();
        assert_eq!(again, claimed[..1]);
        outbox.ack(&again[0]).await.unwrap();
        let last = outbox.claim_due(at(200), "z", 10, minute).await.unwrap();
        assert_eq!(last, claimed[1..]);
    }

    #[tokio::test]
    async fn a_foreign_receipt_is_ignored() {
        let outbox = MemoryOutbox::new();
        let claimed = Claimed {
            notice: notice("a"),
            receipt: "1700000000000-0".to_owned(),
        };
        assert_eq!(outbox.ack(&claimed).await, Ok(()));
    }
}
