//! Start-up: load the scenarios and the locales, check them together, and build the engine.
//! A broken script or locale stops here, with every problem named; never mid-conversation.

use std::path::Path;

use crate::config::Settings;
use crate::engine::Engine;
use crate::i18n::{I18nError, Locales, TermChoices};
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
    choices: &TermChoices,
) -> Result<(script::Scripts, Locales), StartupError> {
    let locales = Locales::load_with(locales, choices)?;
    let scripts = script::load(dialogues)?;
    let mut problems = script::check(&scripts, &locales);
    // Every term the deployment chose exists in every language.
    for message in choices.messages() {
        for lang in locales.languages() {
            if let Err(error) = locales.format(lang, &message, &crate::i18n::Args::new()) {
                problems.push(script::Problem::file(
                    format!("locales/{lang}"),
                    format!("the deployment's choice `{message}` does not render: {error}"),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok((scripts, locales))
    } else {
        Err(Problems(problems).into())
    }
}

/// The engine for `settings`, or why it cannot start.
pub fn engine(settings: &Settings) -> Result<Engine, StartupError> {
    let (scripts, locales) = load_checked(
        &settings.dialogues_dir,
        &settings.locales_dir,
        &settings.term_choices(),
    )?;
    Ok(Engine::new(scripts, locales, settings.deep_link_base())
        .with_school_time(SchoolTime::new(settings.school_timezone))
        .with_support_contact(settings.support_contact.clone()))
}
