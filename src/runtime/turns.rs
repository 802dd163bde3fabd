//! One turn at a time per chat: a chat's next update waits for the turn under way. The map holds
//! only the chats with a turn under way or waiting: the last turn to let go of a chat's lock
//! removes it, so nothing sweeps the map (a sweep per update costs as much as there are chats).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::store::ChatKey;

type Lock = Arc<tokio::sync::Mutex<()>>;

#[derive(Default)]
pub struct TurnLocks {
    locks: Mutex<HashMap<ChatKey, Lock>>,
}

/// A chat's turn being held; dropping it lets the next one go.
pub struct Held<'a> {
    locks: &'a TurnLocks,
    chat: ChatKey,
    lock: Lock,
    guard: Option<OwnedMutexGuard<()>>,
}

impl TurnLocks {
    /// Waits for `chat`'s turn.
    pub async fn hold(&self, chat: ChatKey) -> Held<'_> {
        let lock = self.map().entry(chat).or_default().clone();
        let guard = lock.clone().lock_owned().await;
        Held {
            locks: self,
            chat,
            lock,
            guard: Some(guard),
        }
    }

    /// How many chats have a turn under way or waiting.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.map().len()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<ChatKey, Lock>> {
        self.locks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.locks.map();
        // The map's and ours: nobody else holds or waits for this chat (a clone is only taken
        // with the map locked).
        if Arc::strong_count(&self.lock) == 2 {
            map.remove(&self.chat);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_chat_waits_for_its_own_turn_and_is_forgotten_after_it() {
        let locks = Arc::new(TurnLocks::default());
        let chat = ChatKey::telegram(1);
        let first = locks.hold(chat).await;
        let waiting = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _second = locks.hold(chat).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "the second turn waits for the first"
        );
        // Another chat does not wait.
        drop(locks.hold(ChatKey::telegram(2)).await);
        drop(first);
        waiting.await.expect("the second turn ran");
        assert_eq!(locks.len(), 0, "no chat is kept once its turns are done");
    }
}
