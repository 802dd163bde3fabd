//! Start-up: load the scenarios and the locales, check them together, and build the engine.
//! A broken script or locale stops here, with every problem named; never mid-conversation.

use std::path::Path;

use crate::config::Settings;
use crate::engine::Engine;
use crate::i18n::{I18nError, Locales, TermChoices};
use crate::school::SchoolTime;
use crate::script::{self, Checked, Problems};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Locales(#[from] I18nError),
    #[error(transparent)]
    Scripts(#[from] Problems),
}

/// Loads and checks `dialogues` against `locales`.
pub fn load_checked(
    dialogues: &Path,
    locales: &Path,
    choices: &TermChoices,
) -> Result<Checked, StartupError> {
    let locales = Locales::load_with(locales, choices)?;
    let scripts = script::load(dialogues)?;
    Ok(script::check(scripts, locales)?)
}

/// The engine for `settings`, or why it cannot start.
pub fn engine(settings: &Settings) -> Result<Engine, StartupError> {
    let checked = load_checked(
        &settings.dialogues_dir,
        &settings.locales_dir,
        &settings.term_choices(),
    )?;
    Ok(Engine::new(checked, settings.deep_links())
        .with_school_time(SchoolTime::new(settings.school_timezone))
        .with_support_contact(settings.support_contact.clone()))
}
