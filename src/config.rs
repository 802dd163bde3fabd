//! Typed settings, read once from the environment (and `.env`). Every setting has an embedded
//! default that runs the bot locally with no token and no server; `.env.example` documents them.
//! Secrets are kept in [`Secret`], whose `Debug` never shows them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A value that must never reach the logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

/// Where sessions live when Redis is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `REDIS_URL`, e.g. `redis://127.0.0.1:6379/0`.
    pub url: String,
    /// `REDIS_PREFIX`: every key starts with it (default `sferum:`).
    pub prefix: String,
    /// `SESSION_TTL_DAYS`: a session is forgotten after this long without activity (default 30).
    pub session_ttl: Duration,
}

/// The registration service over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationApiSettings {
    /// `REGISTRATION_API_URL`.
    pub url: reqwest::Url,
    /// `REGISTRATION_API_TOKEN`.
    pub token: Secret,
}

/// Receiving updates through a webhook instead of long polling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `WEBHOOK_URL`: the public HTTPS address Telegram posts to.
    pub url: reqwest::Url,
    /// `WEBHOOK_LISTEN`: the local address to listen on (default `0.0.0.0:8080`).
    pub listen: SocketAddr,
    /// `WEBHOOK_SECRET`: checked in Telegram's secret-token header.
    pub secret: Secret,
}

/// Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramSettings {
    /// `TELOXIDE_TOKEN`: the bot's token from BotFather.
    pub token: Secret,
    /// `TELEGRAM_API_URL`: the Bot API address (tests point it at a fake).
    pub api_url: Option<reqwest::Url>,
    pub webhook: Option<WebhookSettings>,
}

/// The MAX bot, set when `MAX_BOT_TOKEN` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxSettings {
    /// `MAX_BOT_TOKEN`: the bot's token from the MAX platform for partners.
    pub token: Secret,
    /// `MAX_API_URL`: the Bot API address (default the official host; tests point it at a fake).
    pub api_url: reqwest::Url,
}

/// The messenger Сферум lives in. Since 2025 it is MAX; the regional instruction (and a region
/// that has not moved yet) says VK Мессенджер.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessengerApp {
    #[default]
    Max,
    Vk,
}

/// Every setting the bot reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `DIALOGUES_DIR`: the scenario files.
    pub dialogues_dir: PathBuf,
    /// `LOCALES_DIR`: the Fluent files.
    pub locales_dir: PathBuf,
    /// `BOT_USERNAME`: the bot's Telegram name, for deep links.
    pub bot_username: String,
    /// Set when `REDIS_URL` is; otherwise sessions live in memory.
    pub redis: Option<RedisSettings>,
    /// Set when `REGISTRATION_API_URL` is; otherwise the in-process sandbox answers.
    pub registration_api: Option<RegistrationApiSettings>,
    /// Set when `TELOXIDE_TOKEN` is.
    pub telegram: Option<TelegramSettings>,
    /// Set when `MAX_BOT_TOKEN` is.
    pub max: Option<MaxSettings>,
    /// `SCHOOL_TIMEZONE`: an IANA zone name (default `Asia/Yekaterinburg`, Orenburg's time).
    pub school_timezone: chrono_tz::Tz,
    /// `CODE_LIMIT_PER_HOUR`, `CODE_LIMIT_PER_DAY` (per chat, across addresses) and
    /// `CODE_LIMIT_PER_ADDRESS_DAY` (per address, across chats): verification codes allowed.
    pub code_limits: crate::limits::CodeLimits,
    /// `LIMIT_KEY`: the key of the address tags the limits count by (the same on every
    /// replica); unset, a fixed default.
    pub limit_key: Secret,
    /// `MESSENGER_APP`: the app Сферум lives in, as the bot names it (default MAX).
    pub messenger_app: MessengerApp,
    /// `SUPPORT_CONTACT`: how a person reaches a human (the school's or region's phone, e-mail
    /// or link, free text); unset, the bot names the class teacher and Сферум's own help.
    pub support_contact: Option<String>,
    /// `HOSTNAME`: a stable name of this replica (its host), so that restarts do not pile up
    /// outbox consumers in Redis; unset, `replica`.
    pub replica_name: String,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let redis = match get("REDIS_URL") {
            Some(url) => Some(RedisSettings {
                url,
                prefix: get("REDIS_PREFIX").unwrap_or_else(|| "sferum:".to_owned()),
                session_ttl: Duration::from_secs(
                    86_400 * parse_number(&get, "SESSION_TTL_DAYS", 30)?,
                ),
            }),
            None => None,
        };
        let registration_api = match get("REGISTRATION_API_URL") {
            Some(url) => Some(RegistrationApiSettings {
                url: parse_url("REGISTRATION_API_URL", &url)?,
                token: Secret::new(get("REGISTRATION_API_TOKEN").ok_or(ConfigError {
                    name: "REGISTRATION_API_TOKEN",
                    problem: "required when REGISTRATION_API_URL is set".to_owned(),
                })?),
            }),
            None => None,
        };
        let max = match get("MAX_BOT_TOKEN") {
            Some(token) => Some(MaxSettings {
                token: Secret::new(token),
                api_url: parse_url(
                    "MAX_API_URL",
                    &get("MAX_API_URL").unwrap_or_else(|| {
                        crate::transport::max::client::OFFICIAL_API_URL.to_owned()
                    }),
                )?,
            }),
            None => None,
        };
        let telegram = match get("TELOXIDE_TOKEN") {
            Some(token) => Some(TelegramSettings {
                token: Secret::new(token),
                api_url: get("TELEGRAM_API_URL")
                    .map(|u| parse_url("TELEGRAM_API_URL", &u))
                    .transpose()?,
                webhook: match get("WEBHOOK_URL") {
                    Some(url) => Some(WebhookSettings {
                        url: parse_url("WEBHOOK_URL", &url)?,
                        listen: get("WEBHOOK_LISTEN")
                            .unwrap_or_else(|| "0.0.0.0:8080".to_owned())
                            .parse()
                            .map_err(|e| ConfigError {
                                name: "WEBHOOK_LISTEN",
                                problem: format!("not a socket address: {e}"),
                            })?,
                        secret: Secret::new(webhook_secret(get("WEBHOOK_SECRET"))?),
                    }),
                    None => None,
                },
            }),
            None => None,
        };
        Ok(Self {
            dialogues_dir: get("DIALOGUES_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate_dir.join("dialogues")),
            locales_dir: get("LOCALES_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate_dir.join("locales")),
            bot_username: get("BOT_USERNAME").unwrap_or_else(|| "sferum_bot".to_owned()),
            redis,
            registration_api,
            telegram,
            max,
            support_contact: get("SUPPORT_CONTACT"),
            replica_name: get("HOSTNAME").unwrap_or_else(|| "replica".to_owned()),
            code_limits: {
                let defaults = crate::limits::CodeLimits::default();
                let number = |name: &'static str, default: u32| {
                    parse_number(&get, name, u64::from(default))
                        .map(|n| u32::try_from(n).unwrap_or(u32::MAX).max(1))
                };
                crate::limits::CodeLimits {
                    per_chat_hour: number("CODE_LIMIT_PER_HOUR", defaults.per_chat_hour)?,
                    per_chat_day: number("CODE_LIMIT_PER_DAY", defaults.per_chat_day)?,
                    per_address_day: number(
                        "CODE_LIMIT_PER_ADDRESS_DAY",
                        defaults.per_address_day,
                    )?,
                }
            },
            limit_key: Secret::new(get("LIMIT_KEY").unwrap_or_else(|| "sferum-bot".to_owned())),
            messenger_app: match get("MESSENGER_APP").map(|v| v.to_lowercase()).as_deref() {
                None | Some("max") => MessengerApp::Max,
                Some("vk") => MessengerApp::Vk,
                Some(other) => {
                    return Err(ConfigError {
                        name: "MESSENGER_APP",
                        problem: format!("`{other}` is neither `max` nor `vk`"),
                    })
                }
            },
            school_timezone: match get("SCHOOL_TIMEZONE") {
                None => crate::school::DEFAULT_TIME_ZONE,
                Some(name) => name.parse().map_err(|_| ConfigError {
                    name: "SCHOOL_TIMEZONE",
                    problem: format!("`{name}` is not an IANA time zone name"),
                })?,
            },
        })
    }

    /// The Fluent terms this deployment chooses: which messenger the words name.
    pub fn term_choices(&self) -> crate::i18n::TermChoices {
        let app = match self.messenger_app {
            MessengerApp::Max => "max",
            MessengerApp::Vk => "vk",
        };
        crate::i18n::TermChoices(vec![
            ("messenger".to_owned(), app.to_owned()),
            ("messenger-note".to_owned(), app.to_owned()),
        ])
    }

    /// The start of a deep link to this bot: append a token.
    pub fn deep_link_base(&self) -> String {
        format!("https://t.me/{}?start=", self.bot_username)
    }
}

fn parse_url(name: &'static str, value: &str) -> Result<reqwest::Url, ConfigError> {
    value.parse().map_err(|e| ConfigError {
        name,
        problem: format!("not a URL: {e}"),
    })
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e| ConfigError {
            name,
            problem: format!("not a whole number: {e}"),
        }),
    }
}

/// Telegram allows 1–256 characters of `A-Za-z0-9_-` in the secret token.
fn webhook_secret(value: Option<String>) -> Result<String, ConfigError> {
    let problem = |p: &str| ConfigError {
        name: "WEBHOOK_SECRET",
        problem: p.to_owned(),
    };
    let secret = value.ok_or_else(|| problem("required when WEBHOOK_URL is set"))?;
    let valid = (1..=256).contains(&secret.len())
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid
        .then_some(secret)
        .ok_or_else(|| problem("1 to 256 characters of A-Z, a-z, 0-9, _ and -"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_means_the_embedded_defaults() {
        let s = settings(&[]).expect("defaults");
        assert!(s.redis.is_none() && s.registration_api.is_none() && s.telegram.is_none());
        assert_eq!(s.deep_link_base(), "https://t.me/sferum_bot?start=");
        assert_eq!(s.school_timezone, chrono_tz::Asia::Yekaterinburg);
        let err = settings(&[("SCHOOL_TIMEZONE", "Orenburg/Centre")]).unwrap_err();
        assert_eq!(err.name, "SCHOOL_TIMEZONE");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = settings(&[
            ("REGISTRATION_API_URL", "http://127.0.0.1:9/"),
            ("REGISTRATION_API_TOKEN", "s3cr3t-token"),
            ("TELOXIDE_TOKEN", "123:bot-token"),
        ])
        .expect("valid");
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("s3cr3t") && !debug.contains("bot-token"),
            "{debug}"
        );
    }

    #[test]
    fn a_missing_api_token_or_bad_webhook_secret_is_refused_by_name() {
        let err = settings(&[("REGISTRATION_API_URL", "http://127.0.0.1:9/")]).unwrap_err();
        assert_eq!(err.name, "REGISTRATION_API_TOKEN");
        let err = settings(&[
            ("TELOXIDE_TOKEN", "1:x"),
            ("WEBHOOK_URL", "https://bot.example.ru/hook"),
            ("WEBHOOK_SECRET", "has spaces"),
        ])
        .unwrap_err();
        assert_eq!(err.name, "WEBHOOK_SECRET");
    }

    #[test]
    fn redis_settings_have_defaults() {
        let s = settings(&[("REDIS_URL", "redis://127.0.0.1:1/")]).expect("valid");
        let redis = s.redis.expect("redis");
        assert_eq!(redis.prefix, "sferum:");
        assert_eq!(redis.session_ttl, Duration::from_secs(30 * 86_400));
    }
}
