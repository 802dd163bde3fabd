//! Several children from one chat (R4): each child's registration is kept apart. A new
//! invitation while another child's registration is under way asks whether it is another
//! child, and parks the first; `/children` lists every child with its status and continues the
//! chosen one; a decision on a parked child's application brings that child back first.
//! A parked child keeps only what its next step needs: where it stopped and its facts, without
//! a typed code or a reminder date.

use serde::{Deserialize, Serialize};

use super::*;
use crate::script::Msg;
use crate::service::ApplicationStatus;

/// Children parked in a session at most (a family, not a class).
const MAX_CHILDREN: usize = 8;

/// A child's registration set aside while another one goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parked {
    pub at: StepRef,
    pub facts: Facts,
}

/// Where a child's registration stands, for `/children`.
fn status(facts: &Facts) -> &'static str {
    match (&facts.application, &facts.parent_invite, &facts.parent_link) {
        (_, _, Some(_)) => Msg::ChildStatusLinked.id(),
        (_, Some(_), _) => Msg::ChildStatusParentInvited.id(),
        (Some(app), _, _) => match app.status {
            ApplicationStatus::Approved => Msg::ChildStatusApproved.id(),
            ApplicationStatus::Rejected => Msg::ChildStatusRejected.id(),
            ApplicationStatus::Pending => Msg::ChildStatusPending.id(),
        },
        _ => Msg::ChildStatusStarted.id(),
    }
}

/// The name a child goes by in the list: the name given, else the invitation's class.
fn called(facts: &Facts) -> String {
    if let Some(name) = &facts.child_name {
        return name.to_string();
    }
    match &facts.invite {
        Some(Invite::Class { class, .. }) | Some(Invite::Parent { class, .. }) => class.clone(),
        _ => String::new(),
    }
}

impl TurnInProgress<'_> {
    /// Whether a child's registration is under way here (worth keeping when a new one starts).
    pub(super) fn child_in_progress(&self) -> bool {
        let f = &self.session.facts;
        matches!(f.invite, Some(Invite::Class { .. }))
            && (f.contact.is_some() || f.application.is_some())
    }

    /// A new invitation arrived while a child's registration is under way: ask first.
    pub(super) fn ask_another_child(&mut self, token: InviteToken) {
        self.session.pending_invite = Some(token);
        let mut args = Args::new();
        args.insert("child_name".into(), called(&self.session.facts).into());
        let buttons = vec![
            (
                Msg::ChildBtnAnother.id().to_owned(),
                Action::AnotherChild(true),
            ),
            (
                Msg::ChildBtnSame.id().to_owned(),
                Action::AnotherChild(false),
            ),
        ];
        self.say_offering(Msg::ChildAnother.id(), args, None, buttons);
    }

    /// The answer to «другой ребёнок?»: park the current child (or not) and open the invitation.
    pub(super) fn another_child(&mut self, another: bool) {
        let Some(token) = self.session.pending_invite.take() else {
            return self.reshow();
        };
        if another {
            self.park_current();
        }
        self.open_invitation(token);
    }

    /// Starts the deep link's flow with `token`, the conversation's facts new.
    pub(super) fn open_invitation(&mut self, token: InviteToken) {
        self.session.facts = Facts {
            invite_token: Some(token),
            ..Facts::default()
        };
        self.session.history.clear();
        self.show(StepRef::deep_link());
    }

    fn park_current(&mut self) {
        let mut facts = std::mem::take(&mut self.session.facts);
        facts.code = None;
        facts.reminder_date = None;
        self.session.children.push(Parked {
            at: self.session.at.clone(),
            facts,
        });
        let excess = self.session.children.len().saturating_sub(MAX_CHILDREN);
        self.session.children.drain(..excess);
    }

    /// `/children`: every child registered from this chat, with its status; a button continues
    /// each parked one.
    pub(super) fn list_children(&mut self) {
        if self.session.children.is_empty() {
            self.say_plain(Msg::ChildrenNone.id());
            return self.reshow();
        }
        let line = |facts: &Facts| -> String {
            let mut args = Args::new();
            args.insert("child_name".into(), called(facts).into());
            let status = self
                .engine
                .locales
                .format(&self.session.lang, status(facts), &Args::new())
                .unwrap_or_default();
            args.insert("status".into(), status.into());
            self.engine
                .locales
                .format(&self.session.lang, Msg::ChildLine.id(), &args)
                .unwrap_or_default()
        };
        let mut lines = vec![line(&self.session.facts)];
        lines.extend(self.session.children.iter().map(|c| line(&c.facts)));
        let mut args = Args::new();
        args.insert("children".into(), lines.join("\n").into());
        let buttons = (0..self.session.children.len())
            .map(|i| (Msg::ChildBtnContinue.id().to_owned(), Action::Child(i)))
            .chain(std::iter::once((
                Msg::BtnResume.id().to_owned(),
                Action::Resume,
            )))
            .collect();
        self.session.resume = Some(self.session.at.clone());
        self.say_offering(Msg::ChildrenList.id(), args, None, buttons);
    }

    /// Continues parked child `index`, parking the current one in its place.
    pub(super) fn continue_child(&mut self, index: usize) {
        if index >= self.session.children.len() {
            return self.reshow();
        }
        let chosen = self.session.children.remove(index);
        self.park_current();
        self.session.facts = chosen.facts;
        self.session.resume = None;
        self.session.history.clear();
        match self.scripts().step(&chosen.at) {
            Some(_) => self.show(chosen.at),
            None => self.show(StepRef::menu()),
        }
    }

    /// A decision on application `id`: if it is a parked child's, that child comes back first.
    pub(super) fn bring_back_decided(&mut self, id: &str) {
        let current = self
            .session
            .facts
            .application
            .as_ref()
            .map(|a| a.application_id.as_str());
        if current == Some(id) {
            return;
        }
        if let Some(index) = self.session.children.iter().position(|c| {
            c.facts
                .application
                .as_ref()
                .is_some_and(|a| a.application_id == id)
        }) {
            let chosen = self.session.children.remove(index);
            self.park_current();
            self.session.facts = chosen.facts;
            self.session.at = chosen.at;
        }
    }

    /// The label of a parked child's button, by its name.
    pub(super) fn child_label_args(&self, index: usize) -> Args {
        let mut args = Args::new();
        if let Some(child) = self.session.children.get(index) {
            args.insert("child_name".into(), called(&child.facts).into());
        }
        args
    }
}
