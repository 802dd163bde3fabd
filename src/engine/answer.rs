//! Typed answers: a step's input kind turns the user's text into a fact, or into the hint
//! (a Fluent message) that explains what was expected.

use crate::domain::{
    parse_parent_phone, ChildContact, ChildName, ContactError, NameError, ParentPhoneError,
    PhoneError, VerificationCode,
};
use crate::i18n::{Arg, Args};
use crate::script::vocab::InputKind;

use super::session::Facts;
use crate::script::Msg;

/// Why an answer was not accepted: the hint to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub message: Msg,
    pub args: Args,
}

impl Hint {
    fn plain(message: Msg) -> Self {
        Self {
            message,
            args: Args::new(),
        }
    }
}

/// What a typed text gives a step that expects a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The value, recorded in the facts.
    Value,
    /// An attempt at the value that failed (digits, an `@`, a name): the hint explains.
    Attempt(Hint),
    /// Not an attempt at this kind of value (a question, thanks, a button's words); the hint
    /// says what the step needs, should nothing else be understood.
    Other(Hint),
}

/// Reads `text` as an answer of `kind`, also with words around the value («мой номер 8912…»,
/// «код 4995 40», «почта masha@mail.ru»), and records it in `facts`.
pub fn read(kind: InputKind, text: &str, facts: &mut Facts) -> Reading {
    let attempt = |hint: Hint, tried: bool| {
        if tried {
            Reading::Attempt(hint)
        } else {
            Reading::Other(hint)
        }
    };
    match kind {
        InputKind::ChildContact => {
            let mut error = None;
            for candidate in contact_candidates(text) {
                match ChildContact::parse(&candidate) {
                    Ok(contact) => {
                        facts.contact = Some(contact);
                        return Reading::Value;
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            let hint = match error {
                Some(ContactError::Phone(PhoneError::NotMobile)) => {
                    Hint::plain(Msg::HintPhoneNotMobile)
                }
                Some(ContactError::Email(_)) if text.contains('@') => {
                    Hint::plain(Msg::HintEmailInvalid)
                }
                _ => Hint::plain(Msg::HintChildContact),
            };
            attempt(hint, tries_contact(text))
        }
        InputKind::ParentPhone => {
            let mut error = None;
            for candidate in contact_candidates(text) {
                match parse_parent_phone(&candidate) {
                    Ok(phone) => {
                        facts.parent_phone = Some(phone);
                        return Reading::Value;
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            let hint = match error {
                _ if text.contains('@') => Hint::plain(Msg::HintParentEmail),
                Some(ParentPhoneError::Phone(PhoneError::NotMobile)) => {
                    Hint::plain(Msg::HintPhoneNotMobile)
                }
                _ => Hint::plain(Msg::HintParentPhone),
            };
            attempt(hint, tries_contact(text))
        }
        InputKind::Code => {
            let length = facts.verification.as_ref().map_or(6, |v| v.code_length);
            let candidates = std::iter::once(text.to_owned()).chain(digit_runs(text));
            for candidate in candidates {
                if let Ok(code) = VerificationCode::parse(&candidate, length) {
                    facts.code = Some(code);
                    return Reading::Value;
                }
            }
            let mut args = Args::new();
            args.insert("length".to_owned(), Arg::Num(length as i64));
            let hint = Hint {
                message: Msg::HintCode,
                args,
            };
            attempt(hint, text.chars().any(|c| c.is_ascii_digit()))
        }
        InputKind::ChildName => match ChildName::parse(text) {
            Ok(name) => {
                facts.child_name = Some(name);
                Reading::Value
            }
            Err(NameError::BadCharacter) => {
                Reading::Attempt(Hint::plain(Msg::HintChildNameCharacters))
            }
            Err(_) => Reading::Attempt(Hint::plain(Msg::HintChildName)),
        },
    }
}

/// Whether a text tries to give a phone or an email: an `@`, or five digits.
fn tries_contact(text: &str) -> bool {
    text.contains('@') || text.chars().filter(char::is_ascii_digit).count() >= 5
}

/// The whole text, each word with an `@`, and each run of phone characters, to try in turn.
fn contact_candidates(text: &str) -> Vec<String> {
    let mut out = vec![text.to_owned()];
    out.extend(
        text.split_whitespace()
            .filter(|w| w.contains('@'))
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric() && c != '@')
                    .to_owned()
            }),
    );
    let phone_char = |c: char| c.is_ascii_digit() || " +()-\u{a0}".contains(c);
    out.extend(
        runs(text, phone_char).filter(|r| r.chars().filter(char::is_ascii_digit).count() >= 10),
    );
    out
}

/// Runs of digits with spaces or dashes between them («4995 40»).
fn digit_runs(text: &str) -> impl Iterator<Item = String> + '_ {
    runs(text, |c| c.is_ascii_digit() || " -\u{a0}".contains(c))
        .filter(|r| r.chars().any(|c| c.is_ascii_digit()))
}

/// Maximal runs of characters where `keep` holds, trimmed.
fn runs(text: &str, keep: impl Fn(char) -> bool) -> impl Iterator<Item = String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if keep(c) && c != '\n' {
            current.push(c);
        } else if !current.trim().is_empty() {
            out.push(current.trim().to_owned());
            current.clear();
        } else {
            current.clear();
        }
    }
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_among_words() {
        let mut facts = Facts::default();
        assert_eq!(
            read(InputKind::ChildContact, "мой номер 89123456789", &mut facts),
            Reading::Value
        );
        assert_eq!(
            facts.contact.as_ref().map(|c| c.as_str().to_owned()),
            Some("+79123456789".to_owned())
        );
        assert_eq!(
            read(
                InputKind::ChildContact,
                "почта masha@mail.ru, спасибо",
                &mut facts
            ),
            Reading::Value
        );
        assert_eq!(
            read(InputKind::Code, "код 4995 40", &mut facts),
            Reading::Value
        );
        assert_eq!(facts.code.as_ref().map(|c| c.as_str()), Some("499540"));
        assert_eq!(
            read(InputKind::ParentPhone, "вот 8 (912) 345 67 89", &mut facts),
            Reading::Value
        );
    }

    #[test]
    fn attempts_are_told_apart_from_other_text() {
        let mut facts = Facts::default();
        assert!(matches!(
            read(InputKind::ChildContact, "8912345", &mut facts),
            Reading::Attempt(_)
        ));
        assert!(matches!(
            read(InputKind::ChildContact, "а если нет телефона", &mut facts),
            Reading::Other(_)
        ));
        assert!(matches!(
            read(InputKind::ParentPhone, "mama@mail.ru", &mut facts),
            Reading::Attempt(Hint {
                message: Msg::HintParentEmail,
                ..
            })
        ));
        assert!(matches!(
            read(InputKind::Code, "12", &mut facts),
            Reading::Attempt(_)
        ));
        assert!(matches!(
            read(InputKind::Code, "не пришел", &mut facts),
            Reading::Other(_)
        ));
    }
}
