//! Start-up: load the scenarios and the locales, check them together, and build the engine.
//! A broken script or locale stops here, with every problem named; never mid-conversation.

use std::path::Path;

use crate::config::Settings;
use crate::engine::Engine;
use crate::i18n::{I18nError, Locales};
use crate::school::SchoolTime;
use crate::script::{self, Problems};

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
) -> Result<(script::Scripts, Locales), StartupError> {
    let locales = Locales::load(locales)?;
    let scripts = script::load(dialogues)?;
    let problems = script::check(&scripts, &locales);
    if problems.is_empty() {
        Ok((scripts, locales))
    } else {
        Err(Problems(problems).into())
    }
}

/// The engine for `settings`, or why it cannot start.
pub fn engine(settings: &Settings) -> Result<Engine, StartupError> {
    let (scripts, locales) = load_checked(&settings.dialogues_dir, &settings.locales_dir)?;
    Ok(Engine::new(scripts, locales, settings.deep_link_base())
        .with_school_time(SchoolTime::new(settings.school_timezone))
        .with_support_contact(settings.support_contact.clone()))
}
