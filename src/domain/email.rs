//! `Email`: an email address a person can receive a verification code at.
//!
//! [`Email::parse`] trims the text, lowercases it and checks it with the `email_address` crate,
//! then adds the rules of a real mailbox rather than of RFC 5322 at large: no spaces, no display
//! name, no quoted local part, no domain literal, a dot in the domain, at most 254 characters.

use std::fmt;
use std::str::FromStr;

use email_address::{EmailAddress, Options};
use serde::{Deserialize, Serialize};

/// The longest address that fits the SMTP path limit (RFC 5321).
const MAX_LEN: usize = 254;

/// A checked email address, trimmed and lowercased.
///
/// `Display` prints the full address (it is shown to its owner); `Debug` prints
/// [`Email::masked`], so the address never reaches the logs in clear.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a text is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but whitespace was given.
    #[error("the email address is empty")]
    Empty,
    /// Not a deliverable email address.
    #[error("the text is not a valid email address")]
    Invalid,
}

impl Email {
    /// Parses an email address: trimmed, lowercased, checked.
    ///
    /// ```
    /// use sferum_bot::domain::Email;
    /// let email = Email::parse("  Ivan.Petrov@Mail.RU ").unwrap();
    /// assert_eq!(email.as_str(), "ivan.petrov@mail.ru");
    /// ```
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_LEN
            || trimmed
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'))
        {
            return Err(EmailError::Invalid);
        }
        let lowered = trimmed.to_lowercase();
        if lowered.len() > MAX_LEN {
            return Err(EmailError::Invalid);
        }
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            allow_long_local_parts: false,
        };
        let address =
            EmailAddress::parse_with_options(&lowered, options).map_err(|_| EmailError::Invalid)?;
        let domain = address.domain();
        // The crate counts labels; insist on a real top-level domain too (not digits only).
        let tld = domain.rsplit('.').next().unwrap_or_default();
        if !domain.contains('.') || tld.chars().all(|c| c.is_ascii_digit()) {
            return Err(EmailError::Invalid);
        }
        Ok(Email(lowered))
    }

    /// The address, trimmed and lowercased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or_default()
    }

    /// The address with its local part hidden but for the first character: `i***@mail.ru`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_normalises() {
        let cases = [
            ("ivan@mail.ru", "ivan@mail.ru"),
            ("  Ivan.Petrov@Mail.RU  ", "ivan.petrov@mail.ru"),
            ("\u{a0}ivan@mail.ru\t", "ivan@mail.ru"),
            ("IVAN_2012@YANDEX.RU", "ivan_2012@yandex.ru"),
            ("ivan+school@gmail.com", "ivan+school@gmail.com"),
            ("i.petrov@school1.orb.ru", "i.petrov@school1.orb.ru"),
            ("a@b.co", "a@b.co"),
            ("ivan-petrov@bk.ru", "ivan-petrov@bk.ru"),
            ("Иван@Почта.РФ", "иван@почта.рф"),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                Email::parse(raw).map(|e| e.as_str().to_owned()),
                Ok(expected.to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn rejects() {
        let long_local = "a".repeat(65);
        let long_total = format!("{}@{}.ru", "a".repeat(60), "b".repeat(200));
        let cases: Vec<(String, EmailError)> = vec![
            ("".into(), EmailError::Empty),
            ("   ".into(), EmailError::Empty),
            ("ivan".into(), EmailError::Invalid),
            ("ivan@".into(), EmailError::Invalid),
            ("@mail.ru".into(), EmailError::Invalid),
            ("ivan@mail".into(), EmailError::Invalid),
            ("ivan@localhost".into(), EmailError::Invalid),
            ("ivan@mail.".into(), EmailError::Invalid),
            ("ivan@.ru".into(), EmailError::Invalid),
            ("ivan@mail..ru".into(), EmailError::Invalid),
            ("ivan@mail,ru".into(), EmailError::Invalid),
            ("ivan petrov@mail.ru".into(), EmailError::Invalid),
            ("ivan@mail .ru".into(), EmailError::Invalid),
            ("ivan@@mail.ru".into(), EmailError::Invalid),
            ("ivan@mail@mail.ru".into(), EmailError::Invalid),
            ("\"ivan petrov\"@mail.ru".into(), EmailError::Invalid),
            ("\"ivan\"@mail.ru".into(), EmailError::Invalid),
            ("Ivan <ivan@mail.ru>".into(), EmailError::Invalid),
            ("<ivan@mail.ru>".into(), EmailError::Invalid),
            ("ivan@[127.0.0.1]".into(), EmailError::Invalid),
            ("ivan@127.0.0.1".into(), EmailError::Invalid),
            (".ivan@mail.ru".into(), EmailError::Invalid),
            ("ivan.@mail.ru".into(), EmailError::Invalid),
            ("iv..an@mail.ru".into(), EmailError::Invalid),
            ("ivan@mail.ru\u{0}".into(), EmailError::Invalid),
            ("+79123456789".into(), EmailError::Invalid),
            (format!("{long_local}@mail.ru"), EmailError::Invalid),
            (long_total, EmailError::Invalid),
        ];
        for (raw, expected) in cases {
            assert_eq!(Email::parse(&raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn masked_shows_first_character_and_domain() {
        let email = Email::parse("Ivan.Petrov@mail.ru").unwrap();
        assert_eq!(email.masked(), "i***@mail.ru");
        assert_eq!(email.domain(), "mail.ru");
        assert_eq!(format!("{email:?}"), "Email(i***@mail.ru)");
        assert_eq!(email.to_string(), "ivan.petrov@mail.ru");
        let cyrillic = Email::parse("юля@почта.рф").unwrap();
        assert_eq!(cyrillic.masked(), "ю***@почта.рф");
    }

    #[test]
    fn serde_is_a_validated_string() {
        let email = Email::parse("ivan@mail.ru").unwrap();
        assert_eq!(serde_json::to_string(&email).unwrap(), "\"ivan@mail.ru\"");
        let back: Email = serde_json::from_str("\"IVAN@mail.ru\"").unwrap();
        assert_eq!(back, email);
        assert!(serde_json::from_str::<Email>("\"ivan@mail\"").is_err());
        assert!(serde_json::from_str::<Email>("\"\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Email::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_email_like_text(raw in "[a-zA-Zа-яА-Я0-9@.\"<> \\[\\]\\\\_+-]{0,80}") {
            let _ = Email::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_long_text(raw in "[a-z@.\\x00-\\x1f]{200,1000}") {
            prop_assert!(Email::parse(&raw).is_err() || raw.trim().len() <= MAX_LEN);
        }

        #[test]
        fn valid_addresses_round_trip(
            local in "[A-Za-z0-9][A-Za-z0-9_+-]{0,20}(\\.[A-Za-z0-9_+-]{1,10})?",
            domain in "[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?\\.[A-Za-z]{2,6}",
        ) {
            let raw = format!(" {local}@{domain} ");
            let email = Email::parse(&raw).unwrap();
            prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
            // A parsed value re-parses to itself.
            prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            // Serde round-trips.
            let json = serde_json::to_string(&email).unwrap();
            prop_assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), email.clone());
            // The mask hides the local part but for its first character.
            let masked = email.masked();
            let tail = format!("***@{}", email.domain());
            prop_assert!(masked.ends_with(&tail));
            if local.len() > 1 {
                prop_assert!(!masked.contains(email.as_str()));
            }
        }
    }
}
