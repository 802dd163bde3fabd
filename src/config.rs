//! Typed settings, read once from the environment (and `.env`). Every setting has an embedded
//! default that runs the bot locally with no token and no server; `.env.example` documents them.

use std::path::PathBuf;

/// Where the scripts and words come from, and how the bot presents itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `DIALOGUES_DIR`: the scenario files.
    pub dialogues_dir: PathBuf,
    /// `LOCALES_DIR`: the Fluent files.
    pub locales_dir: PathBuf,
    /// `BOT_USERNAME`: the bot's Telegram name, for deep links.
    pub bot_username: String,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Self {
            dialogues_dir: get("DIALOGUES_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate_dir.join("dialogues")),
            locales_dir: get("LOCALES_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate_dir.join("locales")),
            bot_username: get("BOT_USERNAME").unwrap_or_else(|| "sferum_bot".to_owned()),
        }
    }

    /// The start of a deep link to this bot: append a token.
    pub fn deep_link_base(&self) -> String {
        format!("https://t.me/{}?start=", self.bot_username)
    }
}
