//! Parsed values: "parse, don't validate".
//!
//! Every value a person types into the bot (a phone, an email, a verification code, a child's
//! name) or that arrives in a deep link (an invitation token) becomes one of these types at the
//! edge. Their constructors reject bad input with an error enum precise enough to choose the
//! user's message from; past that point the rest of the crate never handles raw strings.
//!
//! Values that are personal data (`Phone`, `Email`, `ChildContact`, `VerificationCode`,
//! `ChildName`) print masked through `Debug`, so that a stray `{:?}` or a `tracing` field never
//! writes them to the logs in clear. `Display` prints the full value, since it is shown to the
//! person who gave it.
//!
//! Every type serialises as its canonical form, and deserialising parses again: a value read
//! back from a store or a service obeys the same rules as one typed by a person.

pub mod chat;
pub mod code;
pub mod contact;
pub mod email;
pub mod invite;
pub mod name;
pub mod phone;
pub mod stored_time;

pub use chat::{Channel, ChatKey, DeepLinks};
pub use code::{CodeError, VerificationCode};
pub use contact::{parse_parent_phone, ChildContact, ContactError, ParentPhoneError};
pub use email::{Email, EmailError};
pub use invite::{InviteToken, InviteTokenError};
pub use name::{ChildName, NameError};
pub use phone::{Phone, PhoneError};
