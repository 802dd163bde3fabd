//! `InviteToken`: the payload of a Telegram deep link, `t.me/<bot>?start=<token>`.
//!
//! Telegram allows 1 to 64 characters from `A-Za-z0-9_-` in a `start` parameter; a token is
//! exactly that. Whitespace around it is dropped, nothing inside it is changed. A token names an
//! invitation, not a person, so it prints in full in `Debug` as well.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest `start` parameter Telegram passes on.
const MAX_LEN: usize = 64;

/// An invitation token from a deep link.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InviteToken(String);

/// Why a text is not an invitation token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteTokenError {
    /// Nothing but whitespace was given.
    #[error("the invitation token is empty")]
    Empty,
    /// Longer than the 64 characters Telegram allows.
    #[error("the invitation token is longer than {MAX_LEN} characters")]
    TooLong,
    /// A character outside `A-Za-z0-9_-`.
    #[error("the invitation token has a character outside A-Za-z0-9_-")]
    BadCharacter,
}

impl InviteToken {
    /// Parses a deep-link payload: 1 to 64 characters of `A-Za-z0-9_-`.
    ///
    /// ```
    /// use sferum_bot::domain::{InviteToken, InviteTokenError};
    /// assert_eq!(InviteToken::parse(" c-5a_Xy9 ").unwrap().as_str(), "c-5a_Xy9");
    /// assert_eq!(InviteToken::parse("a b"), Err(InviteTokenError::BadCharacter));
    /// ```
    pub fn parse(raw: &str) -> Result<InviteToken, InviteTokenError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InviteTokenError::Empty);
        }
        if !trimmed.chars().all(is_token_char) {
            return Err(InviteTokenError::BadCharacter);
        }
        // Every character is ASCII now: bytes and characters count the same.
        if trimmed.len() > MAX_LEN {
            return Err(InviteTokenError::TooLong);
        }
        Ok(InviteToken(trimmed.to_owned()))
    }

    /// The token as it appears in the link.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl fmt::Display for InviteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for InviteToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for InviteToken {
    type Err = InviteTokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InviteToken::parse(s)
    }
}

impl TryFrom<String> for InviteToken {
    type Error = InviteTokenError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        InviteToken::parse(&value)
    }
}

impl From<InviteToken> for String {
    fn from(token: InviteToken) -> Self {
        token.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts() {
        let max = "x".repeat(64);
        let cases = [
            ("a", "a"),
            ("c-5a", "c-5a"),
            ("  Abc_123-xyz\n", "Abc_123-xyz"),
            ("\u{a0}tok\u{a0}", "tok"),
            ("___", "___"),
            ("--", "--"),
            (max.as_str(), max.as_str()),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                InviteToken::parse(raw).map(|t| t.as_str().to_owned()),
                Ok(expected.to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn rejects() {
        let long = "x".repeat(65);
        let cases = [
            ("", InviteTokenError::Empty),
            (" \t\n", InviteTokenError::Empty),
            (long.as_str(), InviteTokenError::TooLong),
            ("a b", InviteTokenError::BadCharacter),
            ("abc=", InviteTokenError::BadCharacter),
            ("abc.def", InviteTokenError::BadCharacter),
            ("приглашение", InviteTokenError::BadCharacter),
            ("tok\u{0}", InviteTokenError::BadCharacter),
            ("tok\u{200b}", InviteTokenError::BadCharacter),
            ("https://t.me/bot?start=abc", InviteTokenError::BadCharacter),
            ("ａｂｃ", InviteTokenError::BadCharacter),
        ];
        for (raw, expected) in cases {
            assert_eq!(InviteToken::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn display_debug_and_serde() {
        let token = InviteToken::parse("c-5a_X").unwrap();
        assert_eq!(token.to_string(), "c-5a_X");
        assert_eq!(format!("{token:?}"), "InviteToken(\"c-5a_X\")");
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"c-5a_X\"");
        assert_eq!(
            serde_json::from_str::<InviteToken>("\"c-5a_X\"").unwrap(),
            token
        );
        assert!(serde_json::from_str::<InviteToken>("\"a b\"").is_err());
        assert!(serde_json::from_str::<InviteToken>("\"\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = InviteToken::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_long_text(raw in "[A-Za-z0-9_\\-\\x00-\\x1f]{60,400}") {
            let _ = InviteToken::parse(&raw);
        }

        #[test]
        fn valid_tokens_round_trip(raw in "[A-Za-z0-9_-]{1,64}", pad in "[ \t\n]{0,3}") {
            let token = InviteToken::parse(&format!("{pad}{raw}{pad}")).unwrap();
            prop_assert_eq!(token.as_str(), raw.as_str());
            prop_assert_eq!(InviteToken::parse(token.as_str()), Ok(token.clone()));
            let json = serde_json::to_string(&token).unwrap();
            prop_assert_eq!(serde_json::from_str::<InviteToken>(&json).unwrap(), token);
        }

        #[test]
        fn long_tokens_are_too_long(raw in "[A-Za-z0-9_-]{65,200}") {
            prop_assert_eq!(InviteToken::parse(&raw), Err(InviteTokenError::TooLong));
        }
    }
}
