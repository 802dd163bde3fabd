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

/// Receiving a messenger's updates through a webhook instead of long polling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `WEBHOOK_URL` (`MAX_WEBHOOK_URL`): the public HTTPS address the messenger posts to.
    pub url: reqwest::Url,
    /// `WEBHOOK_LISTEN` (`MAX_WEBHOOK_LISTEN`): the local address to listen on (default
    /// `0.0.0.0:8080`, and `0.0.0.0:8081` for MAX).
    pub listen: SocketAddr,
    /// `WEBHOOK_SECRET` (`MAX_WEBHOOK_SECRET`): checked in the messenger's secret header on
    /// every delivery.
    pub secret: Secret,
}

/// The names of one messenger's webhook settings, and its rule for the secret.
struct WebhookNames {
    url: &'static str,
    listen: &'static str,
    default_listen: &'static str,
    secret: &'static str,
    /// The shortest secret the messenger takes (both allow 256 characters of `A-Za-z0-9_-`).
    secret_min: usize,
}

const TELEGRAM_WEBHOOK: WebhookNames = WebhookNames {
    url: "WEBHOOK_URL",
    listen: "WEBHOOK_LISTEN",
    default_listen: "0.0.0.0:8080",
    secret: "WEBHOOK_SECRET",
    secret_min: 1,
};

/// MAX: `^[a-zA-Z0-9_-]{5,256}$` (S `SubscriptionRequestBody.secret`).
const MAX_WEBHOOK: WebhookNames = WebhookNames {
    url: "MAX_WEBHOOK_URL",
    listen: "MAX_WEBHOOK_LISTEN",
    default_listen: "0.0.0.0:8081",
    secret: "MAX_WEBHOOK_SECRET",
    secret_min: 5,
};

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
    /// `MAX_BOT_USERNAME`: the bot's name in its links `https://max.ru/<name>`; `run` asks MAX
    /// for it (`GET /me`) when it is not set.
    pub bot_username: Option<String>,
    /// Set when `MAX_WEBHOOK_URL` is; otherwise MAX is long-polled.
    pub webhook: Option<WebhookSettings>,
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
    /// `FLOOD_PER_SECOND` and `FLOOD_BURST`: how fast one chat may write before the bot asks it
    /// to slow down (default 1 a second, 5 at once: faster than anyone types).
    pub flood: (u32, u32),
    /// `LIMIT_KEY`: the key of the address tags the limits count by (the same on every
    /// replica); unset, a fixed default.
    pub limit_key: Secret,
    /// `MESSENGER_APP`: the app Сферум lives in, as the bot names it (default MAX).
    pub messenger_app: MessengerApp,
    /// `SUPPORT_CONTACT`: how a person reaches a human (the school's or region's phone, e-mail
    /// or link, free text); unset, the bot names the class teacher and Сферум's own help.
    pub support_contact: Option<String>,
    /// `METRICS_LISTEN`: where the operations listener serves `/metrics`, `/health` and
    /// `/stats` (e.g. `127.0.0.1:9090`); off when unset.
    pub metrics_listen: Option<SocketAddr>,
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
                bot_username: get("MAX_BOT_USERNAME"),
                webhook: webhook(&get, &MAX_WEBHOOK)?,
            }),
            None => None,
        };
        let telegram = match get("TELOXIDE_TOKEN") {
            Some(token) => Some(TelegramSettings {
                token: Secret::new(token),
                api_url: get("TELEGRAM_API_URL")
                    .map(|u| parse_url("TELEGRAM_API_URL", &u))
                    .transpose()?,
                webhook: webhook(&get, &TELEGRAM_WEBHOOK)?,
            }),
            None => None,
        };
        let telegram_listen = telegram
            .as_ref()
            .and_then(|t| t.webhook.as_ref())
            .map(|w| w.listen);
        let max_listen = max
            .as_ref()
            .and_then(|m| m.webhook.as_ref())
            .map(|w| w.listen);
        if let (Some(a), Some(b)) = (telegram_listen, max_listen) {
            if a == b {
                return Err(ConfigError {
                    name: "MAX_WEBHOOK_LISTEN",
                    problem: format!("{b} is WEBHOOK_LISTEN too; give each messenger its own"),
                });
            }
        }
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
            metrics_listen: get("METRICS_LISTEN")
                .map(|v| {
                    v.parse().map_err(|e| ConfigError {
                        name: "METRICS_LISTEN",
                        problem: format!("not a socket address: {e}"),
                    })
                })
                .transpose()?,
            replica_name: get("HOSTNAME").unwrap_or_else(|| "replica".to_owned()),
            code_limits: {
                let defaults = crate::limits::CodeLimits::default();
                let number = |name: &'static str, default: u32| parse_count(&get, name, default);
                crate::limits::CodeLimits {
                    per_chat_hour: number("CODE_LIMIT_PER_HOUR", defaults.per_chat_hour)?,
                    per_chat_day: number("CODE_LIMIT_PER_DAY", defaults.per_chat_day)?,
                    per_address_day: number(
                        "CODE_LIMIT_PER_ADDRESS_DAY",
                        defaults.per_address_day,
                    )?,
                }
            },
            flood: {
                let number = |name: &'static str, default: u32| parse_count(&get, name, default);
                (
                    number("FLOOD_PER_SECOND", crate::runtime::FLOOD_PER_SECOND)?,
                    number("FLOOD_BURST", crate::runtime::FLOOD_BURST)?,
                )
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

    /// The starts of deep links in every messenger the bot is known by: Telegram's, and MAX's
    /// when its bot's name is known (S "Deep linking": `https://max.ru/<name>?start=`).
    pub fn deep_links(&self) -> crate::domain::DeepLinks {
        let links = crate::domain::DeepLinks::telegram(self.deep_link_base());
        match self.max.as_ref().and_then(|m| m.bot_username.as_deref()) {
            Some(name) => links.with_max(format!("https://max.ru/{name}?start=")),
            None => links,
        }
    }
}

fn parse_url(name: &'static str, value: &str) -> Result<reqwest::Url, ConfigError> {
    value.parse().map_err(|e| ConfigError {
        name,
        problem: format!("not a URL: {e}"),
    })
}

/// A positive count (0 reads as 1).
fn parse_count(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
) -> Result<u32, ConfigError> {
    parse_number(get, name, u64::from(default)).map(|n| u32::try_from(n).unwrap_or(u32::MAX).max(1))
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

/// One messenger's webhook, when its URL is set: the secret is required and must be what the
/// messenger takes (Telegram 1–256, MAX 5–256 characters of `A-Za-z0-9_-`).
fn webhook(
    get: &impl Fn(&str) -> Option<String>,
    names: &WebhookNames,
) -> Result<Option<WebhookSettings>, ConfigError> {
    let Some(url) = get(names.url) else {
        return Ok(None);
    };
    let problem = |p: String| ConfigError {
        name: names.secret,
        problem: p,
    };
    let secret =
        get(names.secret).ok_or_else(|| problem(format!("required when {} is set", names.url)))?;
    let valid = (names.secret_min..=256).contains(&secret.len())
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(problem(format!(
            "{} to 256 characters of A-Z, a-z, 0-9, _ and -",
            names.secret_min
        )));
    }
    Ok(Some(WebhookSettings {
        url: parse_url(names.url, &url)?,
        listen: get(names.listen)
            .unwrap_or_else(|| names.default_listen.to_owned())
            .parse()
            .map_err(|e| ConfigError {
                name: names.listen,
                problem: format!("not a socket address: {e}"),
            })?,
        secret: Secret::new(secret),
    }))
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
    fn the_flood_limit_is_a_setting_and_refuses_what_is_not_a_number() {
        assert_eq!(settings(&[]).expect("defaults").flood, (1, 5));
        let s = settings(&[("FLOOD_PER_SECOND", "50"), ("FLOOD_BURST", "0")]).expect("valid");
        assert_eq!(
            s.flood,
            (50, 1),
            "a burst of 0 would refuse everything: it reads as 1"
        );
        let err = settings(&[("FLOOD_PER_SECOND", "many")]).unwrap_err();
        assert_eq!(err.name, "FLOOD_PER_SECOND");
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
    fn max_webhook_settings_have_their_own_names_rules_and_port() {
        let s = settings(&[
            ("MAX_BOT_TOKEN", "max-token"),
            ("MAX_BOT_USERNAME", "sferum_helper_bot"),
            ("MAX_WEBHOOK_URL", "https://bot.example.ru/max"),
            ("MAX_WEBHOOK_SECRET", "max-Secret_1"),
        ])
        .expect("valid");
        let max = s.max.as_ref().expect("MAX");
        let hook = max.webhook.as_ref().expect("a webhook");
        assert_eq!(hook.listen.port(), 8081);
        assert_eq!(
            s.deep_links().base(crate::domain::Channel::Max),
            "https://max.ru/sferum_helper_bot?start="
        );
        assert_eq!(
            s.deep_links().base(crate::domain::Channel::Telegram),
            "https://t.me/sferum_bot?start="
        );
        // MAX takes no secret under 5 characters.
        let err = settings(&[
            ("MAX_BOT_TOKEN", "max-token"),
            ("MAX_WEBHOOK_URL", "https://bot.example.ru/max"),
            ("MAX_WEBHOOK_SECRET", "abcd"),
        ])
        .unwrap_err();
        assert_eq!(err.name, "MAX_WEBHOOK_SECRET");
        // Two webhooks cannot listen on one address.
        let err = settings(&[
            ("TELOXIDE_TOKEN", "1:x"),
            ("WEBHOOK_URL", "https://bot.example.ru/tg"),
            ("WEBHOOK_SECRET", "tg-secret"),
            ("MAX_BOT_TOKEN", "max-token"),
            ("MAX_WEBHOOK_URL", "https://bot.example.ru/max"),
            ("MAX_WEBHOOK_SECRET", "max-secret"),
            ("MAX_WEBHOOK_LISTEN", "0.0.0.0:8080"),
        ])
        .unwrap_err();
        assert_eq!(err.name, "MAX_WEBHOOK_LISTEN");
    }

    #[test]
    fn redis_settings_have_defaults() {
        let s = settings(&[("REDIS_URL", "redis://127.0.0.1:1/")]).expect("valid");
        let redis = s.redis.expect("redis");
        assert_eq!(redis.prefix, "sferum:");
        assert_eq!(redis.session_ttl, Duration::from_secs(30 * 86_400));
    }
}
