//! Which chat a conversation is in: its messenger and its id there. The same number in two
//! messengers is two chats, two sessions, two sets of notices.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The messenger a chat is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Channel {
    /// Telegram, and the terminal chat (which speaks as a Telegram chat of its own).
    #[default]
    Telegram,
    /// MAX, where Сферум lives since 2025.
    Max,
}

/// Where a link to the bot opens, per messenger: the start of a deep link, to which an
/// invitation's token is appended (`https://t.me/<bot>?start=`, `https://max.ru/<bot>?start=`).
/// A person is given the link of the messenger they are talking in, so a parent invited from
/// MAX opens MAX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepLinks {
    telegram: String,
    max: Option<String>,
}

impl DeepLinks {
    /// Links that open the Telegram bot `telegram` (its start, e.g. `https://t.me/bot?start=`).
    pub fn telegram(telegram: impl Into<String>) -> Self {
        Self {
            telegram: telegram.into(),
            max: None,
        }
    }

    /// And the MAX bot (e.g. `https://max.ru/bot?start=`).
    pub fn with_max(mut self, max: impl Into<String>) -> Self {
        self.max = Some(max.into());
        self
    }

    /// The start of a link for a person in `channel`: Telegram's where the deployment names no
    /// MAX bot (a link that opens the right bot in the other messenger still helps).
    pub fn base(&self, channel: Channel) -> &str {
        match (channel, &self.max) {
            (Channel::Max, Some(max)) => max,
            _ => &self.telegram,
        }
    }
}

/// A chat as the bot knows it.
///
/// Written `123` for Telegram, exactly as every version before MAX wrote a chat (so stored
/// sessions, Redis keys, notices and idempotency keys stay what they were), and `max:123` for
/// MAX. In JSON a Telegram chat stays a number and a MAX chat is that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatKey {
    pub channel: Channel,
    pub id: i64,
}

const MAX_PREFIX: &str = "max:";

impl ChatKey {
    pub const fn telegram(id: i64) -> Self {
        Self {
            channel: Channel::Telegram,
            id,
        }
    }

    pub const fn max(id: i64) -> Self {
        Self {
            channel: Channel::Max,
            id,
        }
    }
}

impl fmt::Display for ChatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.channel {
            Channel::Telegram => write!(f, "{}", self.id),
            Channel::Max => write!(f, "{MAX_PREFIX}{}", self.id),
        }
    }
}

/// Not a chat as [`ChatKey`]'s `Display` writes one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a chat")]
pub struct NotAChat;

impl FromStr for ChatKey {
    type Err = NotAChat;

    fn from_str(text: &str) -> Result<Self, NotAChat> {
        match text.strip_prefix(MAX_PREFIX) {
            Some(id) => id.parse().map(ChatKey::max).map_err(|_| NotAChat),
            None => text.parse().map(ChatKey::telegram).map_err(|_| NotAChat),
        }
    }
}

impl Serialize for ChatKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.channel {
            Channel::Telegram => serializer.serialize_i64(self.id),
            Channel::Max => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for ChatKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(i64),
            Text(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Number(id) => Ok(ChatKey::telegram(id)),
            Written::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_telegram_chat_is_written_as_before_and_a_max_chat_apart() {
        assert_eq!(ChatKey::telegram(-100_500).to_string(), "-100500");
        assert_eq!(ChatKey::max(42).to_string(), "max:42");
        for chat in [
            ChatKey::telegram(42),
            ChatKey::max(42),
            ChatKey::telegram(-7),
        ] {
            assert_eq!(chat.to_string().parse::<ChatKey>(), Ok(chat));
            let json = serde_json::to_string(&chat).expect("encodes");
            assert_eq!(
                serde_json::from_str::<ChatKey>(&json).expect("decodes"),
                chat
            );
        }
        assert_eq!(serde_json::to_string(&ChatKey::telegram(42)).unwrap(), "42");
        assert_eq!(
            serde_json::to_string(&ChatKey::max(42)).unwrap(),
            "\"max:42\""
        );
        assert_ne!(ChatKey::telegram(42), ChatKey::max(42));
        assert_eq!("max:".parse::<ChatKey>(), Err(NotAChat));
        assert_eq!("tg:1".parse::<ChatKey>(), Err(NotAChat));
    }
}
