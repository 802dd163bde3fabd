//! Typed answers: a step's input kind turns the user's text into a fact, or into the hint
//! (a Fluent message) that explains what was expected.

use crate::domain::{
    parse_parent_phone, ChildContact, ChildName, CodeError, ContactError, NameError,
    ParentPhoneError, PhoneError, VerificationCode,
};
use crate::i18n::{Arg, Args};
use crate::script::vocab::InputKind;

use super::session::Facts;

/// Why an answer was not accepted: the hint to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub message: &'static str,
    pub args: Args,
}

impl Hint {
    fn plain(message: &'static str) -> Self {
        Self {
            message,
            args: Args::new(),
        }
    }
}

/// Validates `text` as an answer of `kind` and records it in `facts`.
pub fn accept(kind: InputKind, text: &str, facts: &mut Facts) -> Result<(), Hint> {
    match kind {
        InputKind::ChildContact => {
            let contact = ChildContact::parse(text).map_err(|e| match e {
                ContactError::Phone(PhoneError::NotMobile) => Hint::plain("hint-phone-not-mobile"),
                ContactError::Email(_) => Hint::plain("hint-email-invalid"),
                _ => Hint::plain("hint-child-contact"),
            })?;
            facts.contact = Some(contact);
        }
        InputKind::ParentPhone => {
            let phone = parse_parent_phone(text).map_err(|e| match e {
                ParentPhoneError::EmailNotAllowed => Hint::plain("hint-parent-email"),
                ParentPhoneError::Phone(PhoneError::NotMobile) => {
                    Hint::plain("hint-phone-not-mobile")
                }
                _ => Hint::plain("hint-parent-phone"),
            })?;
            facts.parent_phone = Some(phone);
        }
        InputKind::Code => {
            let length = facts.verification.as_ref().map_or(6, |v| v.code_length);
            let code = VerificationCode::parse(text, length).map_err(|_: CodeError| {
                let mut args = Args::new();
                args.insert("length".to_owned(), Arg::Num(length as i64));
                Hint {
                    message: "hint-code",
                    args,
                }
            })?;
            facts.code = Some(code);
        }
        InputKind::ChildName => {
            let name = ChildName::parse(text).map_err(|e| match e {
                NameError::BadCharacter => Hint::plain("hint-child-name-characters"),
                _ => Hint::plain("hint-child-name"),
            })?;
            facts.child_name = Some(name);
        }
    }
    Ok(())
}
