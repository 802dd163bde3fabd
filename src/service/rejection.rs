//! The contract's refusals: one table gives every rejection code its HTTP status, the message
//! that explains it to a person and the variables that message may use; the service adapters
//! read the status from it and the script checker the messages.

use serde::{Deserialize, Serialize};

use super::ApplicationStatus;

/// Declares [`RejectionCode`] from one row per code: `Kind = "code", status, "message-id",
/// [variables]`.
macro_rules! rejection_codes {
    ($($kind:ident = $code:literal, $status:literal, $message:literal, [$($var:literal),*];)*) => {
        /// A rejection code of the contract, without the details some codes carry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RejectionCode {
            $($kind,)*
        }

        impl RejectionCode {
            /// Every code of the contract.
            pub const ALL: &'static [RejectionCode] = &[$(RejectionCode::$kind,)*];

            /// The code as it appears in the `error` field of an answer.
            pub fn code(self) -> &'static str {
                match self {
                    $(RejectionCode::$kind => $code,)*
                }
            }

            /// The HTTP status the contract answers this code with.
            pub fn status(self) -> u16 {
                match self {
                    $(RejectionCode::$kind => $status,)*
                }
            }

            /// The Fluent message that explains this refusal to the person.
            pub fn message(self) -> &'static str {
                match self {
                    $(RejectionCode::$kind => $message,)*
                }
            }

            /// The variables the engine gives that message.
            pub fn variables(self) -> &'static [&'static str] {
                match self {
                    $(RejectionCode::$kind => &[$($var),*],)*
                }
            }
        }
    };
}

rejection_codes! {
    InviteNotFound = "invite_not_found", 404, "error-invite-not-found", [];
    InviteExpired = "invite_expired", 410, "error-invite-expired", [];
    InviteUsed = "invite_used", 409, "error-invite-used", [];
    NotClassTeacher = "not_class_teacher", 403, "error-not-class-teacher", [];
    InvalidAddress = "invalid_address", 422, "error-invalid-address", [];
    AddressAlreadyRegistered = "address_already_registered", 409,
        "error-address-already-registered", [];
    AddressRegisteredAsChild = "address_registered_as_child", 409,
        "error-address-registered-as-child", [];
    ChannelNotAllowed = "channel_not_allowed", 422, "error-channel-not-allowed", [];
    TooManyRequests = "too_many_requests", 429, "error-too-many-requests",
        ["minutes", "support_contact"];
    TooEarly = "too_early", 429, "error-too-early", ["seconds"];
    WrongCode = "wrong_code", 422, "error-wrong-code", ["attempts_left"];
    VerificationExpired = "verification_expired", 410, "error-verification-expired", [];
    TooManyAttempts = "too_many_attempts", 429, "error-too-many-attempts", [];
    VerificationNotCompleted = "verification_not_completed", 409,
        "error-verification-not-completed", [];
    InvalidChild = "invalid_child", 422, "error-invalid-child", [];
    ApplicationNotFound = "application_not_found", 404, "error-application-not-found", [];
    AlreadyDecided = "already_decided", 409, "error-already-decided", [];
    ApplicationNotApproved = "application_not_approved", 409,
        "error-application-not-approved", [];
}

impl RejectionCode {
    /// The code named `code` in an answer's `error` field.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }
}

/// A refusal the contract names: the service understood the request and said no.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rejection {
    InviteNotFound,
    InviteExpired,
    InviteUsed,
    NotClassTeacher,
    InvalidAddress,
    AddressAlreadyRegistered,
    AddressRegisteredAsChild,
    ChannelNotAllowed,
    TooManyRequests { retry_after_secs: u64 },
    TooEarly { retry_after_secs: u64 },
    WrongCode { attempts_left: u32 },
    VerificationExpired,
    TooManyAttempts,
    VerificationNotCompleted,
    InvalidChild,
    ApplicationNotFound,
    AlreadyDecided { status: ApplicationStatus },
    ApplicationNotApproved,
}

/// What an answer says beside its code, for the codes that carry more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RejectionDetails {
    /// `Retry-After`, in seconds (`too_many_requests`, `too_early`).
    pub retry_after_secs: Option<u64>,
    /// `attempts_left` (`wrong_code`).
    pub attempts_left: Option<u32>,
    /// The decided `status` (`already_decided`).
    pub status: Option<ApplicationStatus>,
}

impl Rejection {
    /// Which code this is.
    pub fn kind(&self) -> RejectionCode {
        match self {
            Rejection::InviteNotFound => RejectionCode::InviteNotFound,
            Rejection::InviteExpired => RejectionCode::InviteExpired,
            Rejection::InviteUsed => RejectionCode::InviteUsed,
            Rejection::NotClassTeacher => RejectionCode::NotClassTeacher,
            Rejection::InvalidAddress => RejectionCode::InvalidAddress,
            Rejection::AddressAlreadyRegistered => RejectionCode::AddressAlreadyRegistered,
            Rejection::AddressRegisteredAsChild => RejectionCode::AddressRegisteredAsChild,
            Rejection::ChannelNotAllowed => RejectionCode::ChannelNotAllowed,
            Rejection::TooManyRequests { .. } => RejectionCode::TooManyRequests,
            Rejection::TooEarly { .. } => RejectionCode::TooEarly,
            Rejection::WrongCode { .. } => RejectionCode::WrongCode,
            Rejection::VerificationExpired => RejectionCode::VerificationExpired,
            Rejection::TooManyAttempts => RejectionCode::TooManyAttempts,
            Rejection::VerificationNotCompleted => RejectionCode::VerificationNotCompleted,
            Rejection::InvalidChild => RejectionCode::InvalidChild,
            Rejection::ApplicationNotFound => RejectionCode::ApplicationNotFound,
            Rejection::AlreadyDecided { .. } => RejectionCode::AlreadyDecided,
            Rejection::ApplicationNotApproved => RejectionCode::ApplicationNotApproved,
        }
    }

    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The refusal an answer names by `code`, with the details it carries; an error names
    /// what the contract requires and the answer lacks. A missing `Retry-After` waits
    /// `default_wait` seconds.
    pub fn from_details(
        code: RejectionCode,
        details: RejectionDetails,
        default_wait: u64,
    ) -> Result<Self, &'static str> {
        let wait = details.retry_after_secs.unwrap_or(default_wait);
        Ok(match code {
            RejectionCode::InviteNotFound => Rejection::InviteNotFound,
            RejectionCode::InviteExpired => Rejection::InviteExpired,
            RejectionCode::InviteUsed => Rejection::InviteUsed,
            RejectionCode::NotClassTeacher => Rejection::NotClassTeacher,
            RejectionCode::InvalidAddress => Rejection::InvalidAddress,
            RejectionCode::AddressAlreadyRegistered => Rejection::AddressAlreadyRegistered,
            RejectionCode::AddressRegisteredAsChild => Rejection::AddressRegisteredAsChild,
            RejectionCode::ChannelNotAllowed => Rejection::ChannelNotAllowed,
            RejectionCode::TooManyRequests => Rejection::TooManyRequests {
                retry_after_secs: wait,
            },
            RejectionCode::TooEarly => Rejection::TooEarly {
                retry_after_secs: wait,
            },
            RejectionCode::WrongCode => Rejection::WrongCode {
                attempts_left: details
                    .attempts_left
                    .ok_or("wrong_code without attempts_left")?,
            },
            RejectionCode::VerificationExpired => Rejection::VerificationExpired,
            RejectionCode::TooManyAttempts => Rejection::TooManyAttempts,
            RejectionCode::VerificationNotCompleted => Rejection::VerificationNotCompleted,
            RejectionCode::InvalidChild => Rejection::InvalidChild,
            RejectionCode::ApplicationNotFound => Rejection::ApplicationNotFound,
            RejectionCode::AlreadyDecided => Rejection::AlreadyDecided {
                status: details
                    .status
                    .filter(|s| *s != ApplicationStatus::Pending)
                    .ok_or("already_decided without a decided status")?,
            },
            RejectionCode::ApplicationNotApproved => Rejection::ApplicationNotApproved,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_details() {
        let details = RejectionDetails {
            retry_after_secs: Some(30),
            attempts_left: Some(2),
            status: Some(ApplicationStatus::Approved),
        };
        for code in RejectionCode::ALL {
            let rejection = Rejection::from_details(*code, details, 60).expect("complete");
            assert_eq!(rejection.kind(), *code);
            assert_eq!(RejectionCode::from_code(code.code()), Some(*code));
            assert!(code.message().starts_with("error-"), "{code:?}");
        }
    }

    #[test]
    fn a_code_without_what_it_must_carry_is_no_rejection() {
        let none = RejectionDetails::default();
        assert!(Rejection::from_details(RejectionCode::WrongCode, none, 60).is_err());
        assert!(Rejection::from_details(RejectionCode::AlreadyDecided, none, 60).is_err());
        assert_eq!(
            Rejection::from_details(RejectionCode::TooEarly, none, 60),
            Ok(Rejection::TooEarly {
                retry_after_secs: 60
            })
        );
    }
}
