//! The messenger port's router: every message goes out through the messenger its chat is in,
//! so a teacher in Telegram and a student in MAX each hear from the bot where they are.

use std::sync::Arc;

use async_trait::async_trait;

use super::notifier::{Courier, Undelivered};
use super::Reply;
use crate::store::{Channel, ChatKey};

/// The couriers of the messengers this process serves, by channel.
#[derive(Default, Clone)]
pub struct Messengers {
    routes: Vec<(Channel, Arc<dyn Courier>)>,
}

impl Messengers {
    pub fn new() -> Self {
        Self::default()
    }

    /// `courier` delivers to the chats of `channel`.
    pub fn with(mut self, channel: Channel, courier: Arc<dyn Courier>) -> Self {
        self.routes.retain(|(c, _)| *c != channel);
        self.routes.push((channel, courier));
        self
    }
}

#[async_trait]
impl Courier for Messengers {
    async fn send(&self, chat: ChatKey, reply: &Reply) -> Result<(), Undelivered> {
        match self.routes.iter().find(|(c, _)| *c == chat.channel) {
            Some((_, courier)) => courier.send(chat, reply).await,
            // Kept, not dropped: a replica that serves this messenger delivers it.
            None => Err(Undelivered::Retry(format!(
                "this process serves no messenger for {:?}",
                chat.channel
            ))),
        }
    }
}
