//! Contacts people give to receive a verification code.
//!
//! - [`ChildContact`]: a student registers with their own phone or email; one text field takes
//!   either, and an `@` tells which one was meant.
//! - [`parse_parent_phone`]: a parent registers by phone only, so an email is refused with its
//!   own error (the bot then explains why rather than saying "not a phone").

use std::fmt;

use serde::{Deserialize, Serialize};

use super::email::{Email, EmailError};
use super::phone::{Phone, PhoneError};

/// A student's own contact: a Russian mobile phone or an email address.
///
/// Serialised like the service contract's address: `{"channel":"phone","address":"+79…"}`.
/// `Debug` is masked (through the inner types), `Display` prints the full contact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "channel", content = "address", rename_all = "snake_case")]
pub enum ChildContact {
    Phone(Phone),
    Email(Email),
}

/// Why a text is not a phone or an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Nothing but whitespace was given.
    #[error("the contact is empty")]
    Empty,
    /// The text was read as a phone number (it has no `@`) and is not a valid one.
    #[error(transparent)]
    Phone(PhoneError),
    /// The text was read as an email address (it has an `@`) and is not a valid one.
    #[error(transparent)]
    Email(EmailError),
}

impl ChildContact {
    /// Reads an email if the text holds an `@`, a phone otherwise.
    ///
    /// ```
    /// use sferum_bot::domain::ChildContact;
    /// assert!(matches!(ChildContact::parse("8 912 345 67 89"), Ok(ChildContact::Phone(_))));
    /// assert!(matches!(ChildContact::parse("ivan@mail.ru"), Ok(ChildContact::Email(_))));
    /// ```
    pub fn parse(raw: &str) -> Result<ChildContact, ContactError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ContactError::Empty);
        }
        if looks_like_email(trimmed) {
            Email::parse(trimmed)
                .map(ChildContact::Email)
                .map_err(ContactError::Email)
        } else {
            Phone::parse(trimmed)
                .map(ChildContact::Phone)
                .map_err(|e| match e {
                    PhoneError::Empty => ContactError::Empty,
                    other => ContactError::Phone(other),
                })
        }
    }

    /// The contact as the service contract spells it (`+79123456789`, `name@example.ru`).
    pub fn as_str(&self) -> &str {
        match self {
            ChildContact::Phone(phone) => phone.as_str(),
            ChildContact::Email(email) => email.as_str(),
        }
    }

    /// The contact as its owner checks it: `+7 912 345-67-89`, `ivan@mail.ru`. Masking is for
    /// logs, not for the person's own chat, where a typo must be visible.
    pub fn shown(&self) -> String {
        match self {
            ChildContact::Phone(phone) => phone.spaced(),
            ChildContact::Email(email) => email.as_str().to_owned(),
        }
    }

    /// The contact with most of it hidden: `+7 912 ***-**-89`, `i***@mail.ru`.
    pub fn masked(&self) -> String {
        match self {
            ChildContact::Phone(phone) => phone.masked(),
            ChildContact::Email(email) => email.masked(),
        }
    }
}

impl fmt::Display for ChildContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Phone> for ChildContact {
    fn from(phone: Phone) -> Self {
        ChildContact::Phone(phone)
    }
}

impl From<Email> for ChildContact {
    fn from(email: Email) -> Self {
        ChildContact::Email(email)
    }
}

/// Why a text is not a parent's phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParentPhoneError {
    /// Nothing but whitespace was given.
    #[error("the phone number is empty")]
    Empty,
    /// The text looks like an email address: parents register by phone only.
    #[error("an email address was given where only a phone number is allowed")]
    EmailNotAllowed,
    /// Not a Russian mobile phone number.
    #[error(transparent)]
    Phone(PhoneError),
}

/// Parses a parent's phone number; an email address is refused with its own error.
///
/// ```
/// use sferum_bot::domain::{parse_parent_phone, ParentPhoneError};
/// assert_eq!(parse_parent_phone("+7 912 345-67-89").unwrap().as_str(), "+79123456789");
/// assert_eq!(parse_parent_phone("mama@mail.ru"), Err(ParentPhoneError::EmailNotAllowed));
/// ```
pub fn parse_parent_phone(raw: &str) -> Result<Phone, ParentPhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ParentPhoneError::Empty);
    }
    if looks_like_email(trimmed) {
        return Err(ParentPhoneError::EmailNotAllowed);
    }
    Phone::parse(trimmed).map_err(|e| match e {
        PhoneError::Empty => ParentPhoneError::Empty,
        other => ParentPhoneError::Phone(other),
    })
}

/// An `@` anywhere means the person meant an email address (a phone never has one).
fn looks_like_email(text: &str) -> bool {
    text.contains('@') || text.contains('\u{FF20}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_phone_or_email() {
        let cases = [
            ("8 912 345 67 89", "+79123456789"),
            ("  +7 (912) 345-67-89 ", "+79123456789"),
            ("9123456789", "+79123456789"),
            ("Ivan@Mail.ru", "ivan@mail.ru"),
            ("  petrov.2012@yandex.ru\n", "petrov.2012@yandex.ru"),
        ];
        for (raw, expected) in cases {
            let contact = ChildContact::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e:?}"));
            assert_eq!(contact.as_str(), expected, "{raw:?}");
            assert_eq!(contact.to_string(), expected, "{raw:?}");
        }
        assert!(matches!(
            ChildContact::parse("89123456789"),
            Ok(ChildContact::Phone(_))
        ));
        assert!(matches!(
            ChildContact::parse("a@b.ru"),
            Ok(ChildContact::Email(_))
        ));
    }

    #[test]
    fn errors_say_which_reading_failed() {
        let cases = [
            ("", ContactError::Empty),
            (" \t ", ContactError::Empty),
            ("ivan@mail", ContactError::Email(EmailError::Invalid)),
            ("@", ContactError::Email(EmailError::Invalid)),
            ("+7 912 ＠mail.ru", ContactError::Email(EmailError::Invalid)),
            ("Иван Петров", ContactError::Phone(PhoneError::NotAPhone)),
            ("ivan.mail.ru", ContactError::Phone(PhoneError::NotAPhone)),
            (
                "8 3532 12-34-56",
                ContactError::Phone(PhoneError::NotMobile),
            ),
            ("912 34", ContactError::Phone(PhoneError::NotAPhone)),
            ("\u{2068}\u{2069}", ContactError::Empty),
        ];
        for (raw, expected) in cases {
            assert_eq!(ChildContact::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn masked_and_debug_hide_the_contact() {
        let phone = ChildContact::parse("+79123456789").unwrap();
        assert_eq!(phone.masked(), "+7 912 ***-**-89");
        assert!(!format!("{phone:?}").contains("9123456789"));
        let email = ChildContact::parse("ivan@mail.ru").unwrap();
        assert_eq!(email.masked(), "i***@mail.ru");
        assert!(!format!("{email:?}").contains("ivan"));
    }

    #[test]
    fn serde_follows_the_address_shape() {
        let phone = ChildContact::parse("89123456789").unwrap();
        let json = serde_json::to_string(&phone).unwrap();
        assert_eq!(json, r#"{"channel":"phone","address":"+79123456789"}"#);
        assert_eq!(serde_json::from_str::<ChildContact>(&json).unwrap(), phone);
        let email = ChildContact::parse("ivan@mail.ru").unwrap();
        let json = serde_json::to_string(&email).unwrap();
        assert_eq!(json, r#"{"channel":"email","address":"ivan@mail.ru"}"#);
        assert_eq!(serde_json::from_str::<ChildContact>(&json).unwrap(), email);
        let bad = r#"{"channel":"phone","address":"+73532123456"}"#;
        assert!(serde_json::from_str::<ChildContact>(bad).is_err());
        let swapped = r#"{"channel":"phone","address":"ivan@mail.ru"}"#;
        assert!(serde_json::from_str::<ChildContact>(swapped).is_err());
    }

    #[test]
    fn parent_phone() {
        let ok = [
            ("+7 912 345-67-89", "+79123456789"),
            ("8 (912) 345 67 89", "+79123456789"),
            ("9123456789", "+79123456789"),
        ];
        for (raw, expected) in ok {
            assert_eq!(
                parse_parent_phone(raw).map(|p| p.to_string()),
                Ok(expected.into())
            );
        }
        let rejected = [
            ("", ParentPhoneError::Empty),
            ("\u{a0}", ParentPhoneError::Empty),
            ("mama@mail.ru", ParentPhoneError::EmailNotAllowed),
            ("mama@mail", ParentPhoneError::EmailNotAllowed),
            ("  papa@yandex.ru ", ParentPhoneError::EmailNotAllowed),
            ("мама", ParentPhoneError::Phone(PhoneError::NotAPhone)),
            (
                "8 800 555 35 35",
                ParentPhoneError::Phone(PhoneError::NotMobile),
            ),
            (
                "+44 7911 123456",
                ParentPhoneError::Phone(PhoneError::NotMobile),
            ),
            ("\u{200e}", ParentPhoneError::Empty),
        ];
        for (raw, expected) in rejected {
            assert_eq!(parse_parent_phone(raw), Err(expected), "{raw:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = ChildContact::parse(&raw);
            let _ = parse_parent_phone(&raw);
        }

        #[test]
        fn a_parsed_contact_reparses_to_itself(
            raw in prop_oneof![
                "(\\+7|8)?9[0-9]{9}",
                "[a-z][a-z0-9_]{0,10}(\\.[a-z0-9_]{1,5})?@[a-z]{1,10}\\.(ru|com|рф)",
            ]
        ) {
            let contact = ChildContact::parse(&raw).unwrap();
            prop_assert_eq!(ChildContact::parse(contact.as_str()), Ok(contact.clone()));
            let json = serde_json::to_string(&contact).unwrap();
            prop_assert_eq!(serde_json::from_str::<ChildContact>(&json).unwrap(), contact.clone());
            prop_assert!(!contact.masked().contains(contact.as_str()));
        }
    }
}
