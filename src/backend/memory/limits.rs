//! The code limits in this process: the embedded default and the tests' double.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::limits::{AddressTag, CodeLimits, Limits, TryAgainIn, DAY_MS, HOUR_MS};
use crate::service::OpKey;
use crate::store::{ChatKey, StoreError};

/// The wait until the oldest of `times` (ms) leaves a window of `window` ms, if `times` holds
/// `limit` or more within it.
fn wait(times: &[i64], now: i64, window: i64, limit: u32) -> Option<i64> {
    let inside: Vec<i64> = times
        .iter()
        .copied()
        .filter(|t| *t > now - window)
        .collect();
    (inside.len() >= limit as usize).then(|| {
        let oldest = inside.iter().copied().min().unwrap_or(now);
        (oldest + window - now).max(1000)
    })
}

/// Limits in this process.
#[derive(Debug, Default)]
pub struct MemoryLimits {
    rules: CodeLimits,
    state: Mutex<HashMap<String, Vec<(OpKey, i64)>>>,
}

impl MemoryLimits {
    pub fn new(rules: CodeLimits) -> Self {
        Self {
            rules,
            state: Mutex::default(),
        }
    }
}

#[async_trait]
impl Limits for MemoryLimits {
    async fn take_code(
        &self,
        chat: ChatKey,
        address: &AddressTag,
        key: OpKey,
        now: DateTime<Utc>,
    ) -> Result<Result<(), TryAgainIn>, StoreError> {
        let now = now.timestamp_millis();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (chat_key, address_key) =
            (format!("chat:{chat}"), format!("addr:{}", address.as_str()));
        for list in [&chat_key, &address_key] {
            state
                .entry(list.clone())
                .or_default()
                .retain(|(_, t)| *t > now - DAY_MS);
        }
        if state[&chat_key].iter().any(|(k, _)| *k == key) {
            return Ok(Ok(()));
        }
        let times = |name: &str| state[name].iter().map(|(_, t)| *t).collect::<Vec<i64>>();
        let over = [
            wait(&times(&chat_key), now, HOUR_MS, self.rules.per_chat_hour),
            wait(&times(&chat_key), now, DAY_MS, self.rules.per_chat_day),
            wait(
                &times(&address_key),
                now,
                DAY_MS,
                self.rules.per_address_day,
            ),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(ms) = over {
            return Ok(Err(TryAgainIn(Duration::from_millis(ms as u64))));
        }
        for list in [chat_key, address_key] {
            state.entry(list).or_default().push((key, now));
        }
        Ok(Ok(()))
    }

    async fn forget_chat(&self, chat: ChatKey) -> Result<(), StoreError> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&format!("chat:{chat}"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 9, 7, 9, 0, 0)
            .single()
            .expect("a date")
            + chrono::Duration::minutes(minutes)
    }

    #[tokio::test]
    async fn a_chat_gets_three_codes_an_hour_and_the_fourth_is_told_when() {
        let limits = MemoryLimits::new(CodeLimits::default());
        for n in 0..3 {
            let address = AddressTag::of(&format!("+7912000000{n}"), b"k");
            let taken = limits
                .take_code(ChatKey::telegram(1), &address, OpKey::random(), at(n))
                .await;
            assert_eq!(taken, Ok(Ok(())));
        }
        let address = AddressTag::of("+79120000009", b"k");
        let over = limits
            .take_code(ChatKey::telegram(1), &address, OpKey::random(), at(10))
            .await;
        assert_eq!(over, Ok(Err(TryAgainIn(Duration::from_secs(50 * 60)))));
        let later = limits
            .take_code(ChatKey::telegram(1), &address, OpKey::random(), at(61))
            .await;
        assert_eq!(later, Ok(Ok(())), "an hour after the first");
        let other_chat = limits
            .take_code(ChatKey::telegram(2), &address, OpKey::random(), at(61))
            .await;
        assert_eq!(other_chat, Ok(Ok(())));
    }

    #[tokio::test]
    async fn a_repeated_operation_is_not_counted_twice() {
        let limits = MemoryLimits::new(CodeLimits {
            per_chat_hour: 1,
            ..CodeLimits::default()
        });
        let address = AddressTag::of("+79120000001", b"k");
        let key = OpKey::random();
        assert_eq!(
            limits
                .take_code(ChatKey::telegram(1), &address, key, at(0))
                .await,
            Ok(Ok(()))
        );
        assert_eq!(
            limits
                .take_code(ChatKey::telegram(1), &address, key, at(1))
                .await,
            Ok(Ok(()))
        );
        assert!(limits
            .take_code(ChatKey::telegram(1), &address, OpKey::random(), at(2))
            .await
            .is_ok_and(|r| r.is_err()));
    }

    #[test]
    fn an_address_tag_hides_the_address_and_depends_on_the_key() {
        let tag = AddressTag::of("+79123456789", b"one");
        assert!(!tag.as_str().contains("9123456789"));
        assert_eq!(tag.as_str().len(), 32);
        assert_eq!(tag, AddressTag::of("+79123456789", b"one"));
        assert_ne!(tag, AddressTag::of("+79123456789", b"two"));
    }
}
