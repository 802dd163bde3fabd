//! The invitations: the three reusable demo ones and those the sandbox issues, what a token
//! resolves to, and issuing and using up a single-use invitation.

use chrono::{DateTime, Duration, Utc};
use rand::distr::Alphanumeric;
use rand::Rng;

use super::state::{IssuedKind, IssuedRecord, State};
use super::{
    rejected, DEMO_CHILD_CLASS, DEMO_CHILD_ID, DEMO_CHILD_NAME, DEMO_CLASS_TOKEN,
    DEMO_PARENT_TOKEN, DEMO_SCHOOL, DEMO_TEACHER_ID, DEMO_TEACHER_TOKEN, INVITE_TTL_DAYS,
    ISSUED_TOKEN_LEN,
};
use crate::domain::InviteToken;
use crate::service::{ClassInfo, Invite, IssuedInvite, Rejection, ServiceError};

/// Which invitation a token resolved to, with what using it must update.
pub(super) enum Resolved {
    Demo(Invite),
    Issued(Invite),
}

impl Resolved {
    pub(super) fn invite(&self) -> &Invite {
        match self {
            Resolved::Demo(invite) | Resolved::Issued(invite) => invite,
        }
    }
}

impl State {
    fn class_invite(&self, class_id: &str, expires_at: Option<DateTime<Utc>>) -> Option<Invite> {
        let class = self.classes.get(class_id)?;
        let teacher_name = self.teachers.get(&class.teacher_id)?;
        Some(Invite::Class {
            class_id: class_id.to_owned(),
            class: class.name.clone(),
            school: class.school.clone(),
            teacher_name: teacher_name.clone(),
            expires_at,
        })
    }

    fn teacher_invite(&self, teacher_id: &str) -> Option<Invite> {
        let teacher_name = self.teachers.get(teacher_id)?;
        let mut classes: Vec<ClassInfo> = self
            .classes
            .iter()
            .filter(|(_, class)| class.teacher_id == teacher_id)
            .map(|(class_id, class)| ClassInfo {
                class_id: class_id.clone(),
                name: class.name.clone(),
                school: class.school.clone(),
            })
            .collect();
        classes.sort_by(|a, b| a.class_id.cmp(&b.class_id));
        Some(Invite::Teacher {
            teacher_id: teacher_id.to_owned(),
            teacher_name: teacher_name.clone(),
            classes,
        })
    }

    /// The invitation behind a token, refusing unknown, used and expired ones.
    pub(super) fn resolve(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Resolved, ServiceError> {
        match token {
            DEMO_CLASS_TOKEN => {
                return self
                    .class_invite("c-5a", None)
                    .map(Resolved::Demo)
                    .ok_or(rejected(Rejection::InviteNotFound));
            }
            DEMO_PARENT_TOKEN => {
                return Ok(Resolved::Demo(Invite::Parent {
                    child_id: DEMO_CHILD_ID.to_owned(),
                    child_name: DEMO_CHILD_NAME.to_owned(),
                    class: DEMO_CHILD_CLASS.to_owned(),
                    school: DEMO_SCHOOL.to_owned(),
                    expires_at: None,
                }));
            }
            DEMO_TEACHER_TOKEN => {
                return self
                    .teacher_invite(DEMO_TEACHER_ID)
                    .map(Resolved::Demo)
                    .ok_or(rejected(Rejection::InviteNotFound));
            }
            _ => {}
        }
        let record = self
            .issued
            .get(token)
            .ok_or(rejected(Rejection::InviteNotFound))?;
        if record.used {
            return Err(rejected(Rejection::InviteUsed));
        }
        if now >= record.expires_at {
            return Err(rejected(Rejection::InviteExpired));
        }
        let invite = match &record.kind {
            IssuedKind::Class { class_id } => self.class_invite(class_id, Some(record.expires_at)),
            IssuedKind::Parent { application_id } => {
                self.applications.get(application_id).and_then(|app| {
                    let class = self.classes.get(&app.class_id)?;
                    Some(Invite::Parent {
                        child_id: app.child_id.clone(),
                        child_name: app.child_name.clone(),
                        class: class.name.clone(),
                        school: class.school.clone(),
                        expires_at: Some(record.expires_at),
                    })
                })
            }
        };
        invite
            .map(Resolved::Issued)
            .ok_or(rejected(Rejection::InviteNotFound))
    }

    /// Marks an issued invitation used; demo invitations stay reusable.
    pub(super) fn mark_used(&mut self, token: &str, resolved: &Resolved) {
        if let Resolved::Issued(_) = resolved {
            if let Some(record) = self.issued.get_mut(token) {
                record.used = true;
            }
        }
    }

    pub(super) fn issue(
        &mut self,
        kind: IssuedKind,
        now: DateTime<Utc>,
    ) -> Result<IssuedInvite, ServiceError> {
        let mut raw = random_token();
        while self.issued.contains_key(&raw) || is_demo_token(&raw) {
            raw = random_token();
        }
        let token = InviteToken::parse(&raw)
            .map_err(|_| ServiceError::Protocol("issued an invalid invite token".to_owned()))?;
        let expires_at = now + Duration::days(INVITE_TTL_DAYS);
        self.issued.insert(
            raw,
            IssuedRecord {
                kind,
                expires_at,
                used: false,
            },
        );
        Ok(IssuedInvite { token, expires_at })
    }
}

fn is_demo_token(token: &str) -> bool {
    matches!(
        token,
        DEMO_CLASS_TOKEN | DEMO_PARENT_TOKEN | DEMO_TEACHER_TOKEN
    )
}

fn random_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(ISSUED_TOKEN_LEN)
        .map(char::from)
        .collect()
}
