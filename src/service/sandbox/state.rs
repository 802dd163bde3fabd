//! What the sandbox remembers: the records of the classes, the invitations it issued, the
//! verifications, the applications and the parent links, seeded with the demo school.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{DEMO_CLASSES, DEMO_SCHOOL, DEMO_TEACHER_ID, DEMO_TEACHER_NAME};
use crate::service::{Address, ApplicationStatus, LinkStatus, Purpose, ServiceError};

/// What an invitation issued by the sandbox opens.
#[derive(Debug, Clone)]
pub(super) enum IssuedKind {
    Class { class_id: String },
    Parent { application_id: String },
}

#[derive(Debug, Clone)]
pub(super) struct IssuedRecord {
    pub(super) kind: IssuedKind,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) used: bool,
}

#[derive(Debug, Clone)]
pub(super) struct ClassRecord {
    pub(super) name: String,
    pub(super) school: String,
    pub(super) teacher_id: String,
}

#[derive(Debug, Clone)]
pub(super) struct VerificationRecord {
    pub(super) address: Address,
    pub(super) purpose: Purpose,
    pub(super) code: String,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) resend_after: DateTime<Utc>,
    pub(super) attempts_left: u32,
    pub(super) verified: bool,
    pub(super) consumed: bool,
}

#[derive(Debug, Clone)]
pub(super) struct ApplicationRecord {
    pub(super) seq: u64,
    pub(super) child_id: String,
    pub(super) child_name: String,
    pub(super) class_id: String,
    pub(super) status: ApplicationStatus,
    pub(super) reason: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub(super) struct LinkRecord {
    pub(super) status: Option<LinkStatus>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) classes: HashMap<String, ClassRecord>,
    pub(super) teachers: HashMap<String, String>,
    pub(super) issued: HashMap<String, IssuedRecord>,
    pub(super) verifications: HashMap<String, VerificationRecord>,
    pub(super) starts: HashMap<String, Vec<DateTime<Utc>>>,
    pub(super) registered_children: HashSet<String>,
    pub(super) applications: HashMap<String, ApplicationRecord>,
    pub(super) links: HashMap<String, LinkRecord>,
    pub(super) next_verification: u64,
    pub(super) next_application: u64,
    pub(super) next_child: u64,
    pub(super) next_link: u64,
}

impl State {
    pub(super) fn seeded() -> Self {
        let mut state = State {
            next_verification: 1,
            next_application: 1,
            // `s-1` is the demo child.
            next_child: 2,
            next_link: 1,
            ..State::default()
        };
        state
            .teachers
            .insert(DEMO_TEACHER_ID.to_owned(), DEMO_TEACHER_NAME.to_owned());
        for (class_id, name) in DEMO_CLASSES {
            state.classes.insert(
                (*class_id).to_owned(),
                ClassRecord {
                    name: (*name).to_owned(),
                    school: DEMO_SCHOOL.to_owned(),
                    teacher_id: DEMO_TEACHER_ID.to_owned(),
                },
            );
        }
        state
    }

    pub(super) fn verification(&self, id: &str) -> Result<&VerificationRecord, ServiceError> {
        self.verifications.get(id).ok_or_else(unknown_verification)
    }

    pub(super) fn verification_mut(
        &mut self,
        id: &str,
    ) -> Result<&mut VerificationRecord, ServiceError> {
        self.verifications
            .get_mut(id)
            .ok_or_else(unknown_verification)
    }
}

fn unknown_verification() -> ServiceError {
    ServiceError::Protocol("unknown verification id".to_owned())
}
