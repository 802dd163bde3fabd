//! Dropping delivered replies from the outbox, many at once: while one drop is on its way to
//! the store, the replies delivered meanwhile queue up, and the next drop takes them all (a
//! group commit). Under load one round trip drops the replies of many updates, and each caller
//! still returns only once its own replies are dropped (or the drop failed).

use std::sync::Mutex;

use crate::notify::Outbox;
use crate::store::{ChatKey, StoreError};

/// The queue of notices to drop; see the [module documentation](self).
#[derive(Default)]
pub struct Drops {
    queue: Mutex<Queue>,
    /// Held by the one caller whose drop is on its way.
    turn: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Queue {
    notices: Vec<(ChatKey, String)>,
    /// How many ids were ever queued; a caller's ticket is the count with its own.
    queued: u64,
    /// Every ticket up to this one was taken by a drop that has finished.
    done: u64,
}

/// What one caller's drop came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Dropped {
    /// This caller's drop took `n` notices (its own among them).
    Batch {
        n: usize,
        result: Result<(), StoreError>,
    },
    /// Another caller's drop took this one along.
    Along,
}

impl Drops {
    /// Drops `chat`'s notice `id` from `outbox`, with whatever else is waiting.
    pub async fn remove(&self, outbox: &dyn Outbox, chat: ChatKey, id: &str) -> Dropped {
        let ticket = {
            let mut queue = self.queue();
            queue.notices.push((chat, id.to_owned()));
            queue.queued += 1;
            queue.queued
        };
        let _turn = self.turn.lock().await;
        let (notices, upto) = {
            let mut queue = self.queue();
            if queue.done >= ticket {
                return Dropped::Along;
            }
            (std::mem::take(&mut queue.notices), queue.queued)
        };
        let refs: Vec<(ChatKey, &str)> = notices.iter().map(|(c, id)| (*c, id.as_str())).collect();
        let result = outbox.cancel_all(&refs).await;
        self.queue().done = upto;
        Dropped::Batch {
            n: notices.len(),
            result,
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::memory::MemoryOutbox;
    use crate::notify::{IfScheduled, Notice, NoticeKind};
    use crate::store::ChatKey;
    use chrono::{TimeZone, Utc};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// An outbox that counts its calls to `cancel_all` and takes its time answering.
    struct Slow {
        inner: MemoryOutbox,
        calls: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Outbox for Slow {
        async fn schedule(
            &self,
            notice: &Notice,
            due: chrono::DateTime<Utc>,
            if_scheduled: IfScheduled,
        ) -> Result<bool, StoreError> {
            self.inner.schedule(notice, due, if_scheduled).await
        }
        async fn cancel_all(&self, notices: &[(ChatKey, &str)]) -> Result<(), StoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.inner.cancel_all(notices).await
        }
        async fn claim_due(
            &self,
            now: chrono::DateTime<Utc>,
            consumer: &str,
            max: usize,
            stale_after: std::time::Duration,
        ) -> Result<Vec<crate::notify::Claimed>, StoreError> {
            self.inner.claim_due(now, consumer, max, stale_after).await
        }
        async fn ack(&self, claimed: &crate::notify::Claimed) -> Result<(), StoreError> {
            self.inner.ack(claimed).await
        }
        async fn scheduled_count(&self) -> Result<usize, StoreError> {
            self.inner.scheduled_count().await
        }
        async fn backlog(
            &self,
            now: chrono::DateTime<Utc>,
        ) -> Result<crate::notify::Backlog, StoreError> {
            self.inner.backlog(now).await
        }
        async fn forget_chat(&self, chat: ChatKey) -> Result<usize, StoreError> {
            self.inner.forget_chat(chat).await
        }
    }

    #[tokio::test]
    async fn replies_delivered_while_a_drop_is_under_way_are_dropped_together() {
        let outbox = Arc::new(Slow {
            inner: MemoryOutbox::default(),
            calls: AtomicUsize::new(0),
        });
        let due = Utc
            .with_ymd_and_hms(2026, 9, 7, 9, 0, 0)
            .single()
            .expect("a date");
        for n in 0..10 {
            let notice = Notice {
                id: format!("replies:{n}"),
                chat: ChatKey::telegram(n),
                kind: NoticeKind::Replies {
                    replies: Vec::new(),
                },
            };
            outbox
                .schedule(&notice, due, IfScheduled::Replace)
                .await
                .expect("scheduled");
        }
        let drops = Arc::new(Drops::default());
        let mut callers = tokio::task::JoinSet::new();
        for n in 0..10 {
            let (drops, outbox) = (drops.clone(), outbox.clone());
            callers.spawn(async move {
                drops
                    .remove(
                        outbox.as_ref(),
                        ChatKey::telegram(n),
                        &format!("replies:{n}"),
                    )
                    .await
            });
        }
        let mut taken = 0;
        while let Some(done) = callers.join_next().await {
            match done.expect("a caller") {
                Dropped::Batch { n, result } => {
                    assert_eq!(result, Ok(()));
                    taken += n;
                }
                Dropped::Along => {}
            }
        }
        // Every notice is gone, each taken by exactly one drop, in fewer calls than notices.
        assert_eq!(taken, 10);
        assert_eq!(outbox.scheduled_count().await, Ok(0));
        let calls = outbox.calls.load(Ordering::SeqCst);
        assert!(calls < 10, "{calls} calls for 10 notices");
    }
}
