//! Shared test set-up: the shipped scripts and locales, a bot on the sandbox with a fixed code
//! and a hand-moved clock, and a transcript recorder that reads like the conversation.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};

use sferum_bot::backend::memory::MemoryStore;
use sferum_bot::clock::ManualClock;
use sferum_bot::config::Settings;
use sferum_bot::engine::{ButtonTarget, Engine, Input};
use sferum_bot::i18n::{Arg, Args};
use sferum_bot::runtime::notifier::{Courier, Undelivered};
use sferum_bot::runtime::{Assistant, Reply};
use sferum_bot::service::sandbox::{Sandbox, SandboxConfig};
use sferum_bot::startup;
use sferum_bot::store::{ChatKey, SessionStore};

/// The code the test sandbox always sends.
pub const CODE: &str = "123456";

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn settings() -> Settings {
    Settings::from_lookup(|_| None).expect("the embedded defaults are valid")
}

/// The shipped scripts and locales, loaded and checked once per test binary.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Arc::new(startup::engine(&settings()).unwrap_or_else(|e| panic!("shipped data: {e}")))
        })
        .clone()
}

/// A Monday morning at the start of the school year, in UTC.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 7, 6, 0, 0)
        .single()
        .expect("a valid date")
}

/// Collects what a notifier sends, as Telegram would show it.
#[derive(Default)]
pub struct Inbox(std::sync::Mutex<Vec<(ChatKey, Reply)>>);

#[async_trait::async_trait]
impl Courier for Inbox {
    async fn send(&self, chat: ChatKey, reply: &Reply) -> Result<(), Undelivered> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((chat, reply.clone()));
        Ok(())
    }
}

impl Inbox {
    /// Everything delivered since the last take.
    pub fn take(&self) -> Vec<(ChatKey, Reply)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The sandbox's settings for tests: every code is [`CODE`].
fn fixed_code() -> SandboxConfig {
    SandboxConfig {
        fixed_code: Some(CODE.to_owned()),
        ..SandboxConfig::default()
    }
}

/// A stored session's bytes (JSON, or packed: `store::packed`) as its JSON, to read or search.
pub fn session_json(bytes: &[u8]) -> Result<String, sferum_bot::store::Undecodable> {
    let session = sferum_bot::store::decode(bytes)?;
    Ok(serde_json::to_string(&session).unwrap_or_else(|e| panic!("{e}")))
}

/// A bot on the sandbox (code always [`CODE`]) and a memory store.
pub struct TestBot {
    pub bot: Arc<Assistant>,
    pub clock: ManualClock,
    pub store: Arc<dyn SessionStore>,
}

impl TestBot {
    pub fn new() -> Self {
        Self::with_sandbox_config(fixed_code())
    }

    pub fn with_sandbox_config(config: SandboxConfig) -> Self {
        Self::build(engine(), config, Arc::new(MemoryStore::new()), |bot| bot)
    }

    /// A bot on `engine`, a sandbox configured by `config` and `store`, with a hand-moved clock
    /// at [`monday_morning`], then whatever `configure` adds (an outbox, limits…; else they are
    /// in memory): what every constructor uses.
    fn build(
        engine: Arc<Engine>,
        config: SandboxConfig,
        store: Arc<dyn SessionStore>,
        configure: impl FnOnce(Assistant) -> Assistant,
    ) -> Self {
        let clock = ManualClock::new(monday_morning());
        let sandbox = Arc::new(Sandbox::with_config(Arc::new(clock.clone()), config));
        // Tests type faster than people: flood control has its own test.
        let bot = Assistant::new(engine, sandbox, store.clone(), Arc::new(clock.clone()))
            .with_flood_limit(1000, 1000);
        Self {
            bot: Arc::new(configure(bot)),
            clock,
            store,
        }
    }

    /// A notifier of this bot, delivering to an [`Inbox`].
    pub fn notifier(&self) -> (sferum_bot::runtime::notifier::Notifier, Arc<Inbox>) {
        let inbox = Arc::new(Inbox::default());
        let notifier =
            sferum_bot::runtime::notifier::Notifier::new(self.bot.clone(), inbox.clone(), "test");
        (notifier, inbox)
    }

    pub fn chat(&self, chat: impl AsChat) -> Transcript<'_> {
        transcript(&self.bot, chat)
    }
}

/// A conversation of one chat, recorded as text.
pub struct Transcript<'b> {
    bot: &'b Assistant,
    chat: ChatKey,
    pub lang: Option<String>,
    last: Vec<Reply>,
    text: String,
    /// The message id of every reply so far, in order.
    messages: Vec<String>,
    /// Where the conversation is, as `scenario/step`.
    pub at: String,
    /// Every seed ID the conversation passed through, in order.
    pub seeds: Vec<String>,
}

impl Transcript<'_> {
    /// The user types `text` (a command or a message).
    pub async fn send(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.text, ">>> {text}");
        self.input(Input::from_text(text)).await
    }

    /// The user presses the button labelled `label` on the latest message.
    pub async fn press(&mut self, label: &str) -> &mut Self {
        let target = self
            .last
            .iter()
            .rev()
            .flat_map(|r| r.buttons.iter())
            .find(|b| b.label == label)
            .map(|b| b.action.clone())
            .unwrap_or_else(|| {
                panic!(
                    "no button «{label}» on the latest message; the conversation so far:\n{}",
                    self.text
                )
            });
        let _ = writeln!(self.text, ">>> [{label}]");
        let input = target
            .callback_data()
            .and_then(|data| Input::from_callback(&data))
            .unwrap_or_else(|| panic!("«{label}» opens a link; it does not reach the bot"));
        self.input(input).await
    }

    /// The user presses `label` on a message the notifier sent to `chat`.
    pub async fn press_from(
        &mut self,
        sent: &[(ChatKey, Reply)],
        chat: ChatKey,
        label: &str,
    ) -> &mut Self {
        let input = replies_to(sent, chat)
            .flat_map(|r| r.buttons.iter())
            .find(|b| b.label == label)
            .and_then(|b| b.action.callback_data())
            .and_then(|data| Input::from_callback(&data))
            .unwrap_or_else(|| panic!("no button «{label}» sent to {chat}"));
        let _ = writeln!(self.text, ">>> [{label}]");
        self.input(input).await
    }

    /// The QR code on the latest messages, if any.
    pub fn last_qr(&self) -> Option<String> {
        self.last.iter().find_map(|r| r.qr.clone())
    }

    pub async fn input(&mut self, input: Input) -> &mut Self {
        let handled = self
            .bot
            .handle(self.chat, self.lang.as_deref(), input)
            .await
            .unwrap_or_else(|e| panic!("the turn failed: {e}\n{}", self.text));
        self.bot.delivered(&handled).await;
        for reply in &handled.replies {
            self.messages.push(reply.message.clone());
            for (i, line) in reply.text.lines().enumerate() {
                let mark = if i == 0 { "<<<" } else { "   " };
                let _ = writeln!(self.text, "{mark} {line}");
            }
            for b in &reply.buttons {
                match &b.action {
                    ButtonTarget::Url(url) => {
                        let _ = writeln!(self.text, "    [{} ↗ {url}]", b.label);
                    }
                    _ => {
                        let _ = writeln!(self.text, "    [{}]", b.label);
                    }
                }
            }
        }
        let seed = handled.seed.clone().unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(self.text, "@ {} {seed}", handled.at);
        if let Some(seed) = handled.seed {
            if self.seeds.last() != Some(&seed) {
                self.seeds.push(seed);
            }
        }
        self.at = handled.at.to_string();
        if !handled.replies.is_empty() {
            self.last = handled.replies;
        }
        self
    }

    /// A student's Variant 1 by the demo class link: `/start`, the contact, the code and the
    /// name, up to the submitted application.
    pub async fn submit_application(&mut self, contact: &str, name: &str) -> &mut Self {
        self.send("/start demo-class").await;
        self.press("Войти в аккаунт").await;
        self.send(contact).await;
        self.press("Да, это ребёнка").await;
        self.send(CODE).await;
        self.send(name).await;
        self.press("Отправить заявку").await
    }

    /// After [`Transcript::submit_application`] (the sandbox approves when asked): the status,
    /// the parent invitation; returns the invitation's token.
    pub async fn invite_parent(&mut self) -> String {
        self.press("Проверить статус заявки").await;
        self.press("Пригласить родителя").await;
        self.invitation_token()
    }

    /// The token of the bot's invitation link in the latest message.
    pub fn invitation_token(&self) -> String {
        self.last_text()
            .lines()
            .find_map(|l| l.trim().strip_prefix("https://t.me/sferum_bot?start="))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no invitation link in:\n{}", self.text))
    }

    /// Everything said so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The latest messages of the bot, joined.
    pub fn last_text(&self) -> String {
        self.last
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn last_buttons(&self) -> Vec<String> {
        self.last
            .iter()
            .flat_map(|r| r.buttons.iter().map(|b| b.label.clone()))
            .collect()
    }

    /// The message ids of the latest messages of the bot, in order.
    pub fn last_messages(&self) -> Vec<String> {
        self.last.iter().map(|r| r.message.clone()).collect()
    }

    /// Whether one of the latest messages of the bot is the message `id`.
    pub fn said(&self, id: &str) -> bool {
        self.last.iter().any(|r| r.message == id)
    }

    /// Whether the bot said the message `id` at any point of the conversation.
    pub fn ever_said(&self, id: &str) -> bool {
        self.messages.iter().any(|m| m == id)
    }

    /// One of the latest messages of the bot is the message `id`.
    #[track_caller]
    pub fn assert_said(&self, id: &str) {
        assert!(
            self.said(id),
            "{}",
            self.unexpected(&format!(
                "«{id}» is not among the latest messages {:?}",
                self.last_messages()
            ))
        );
    }

    /// None of the latest messages of the bot is the message `id`.
    #[track_caller]
    pub fn assert_not_said(&self, id: &str) {
        assert!(
            !self.said(id),
            "{}",
            self.unexpected(&format!(
                "«{id}» is among the latest messages {:?}",
                self.last_messages()
            ))
        );
    }

    /// The bot said the message `id` at some point of the conversation.
    #[track_caller]
    pub fn assert_ever_said(&self, id: &str) {
        assert!(
            self.ever_said(id),
            "{}",
            self.unexpected(&format!(
                "«{id}» was never said; said so far: {:?}",
                self.messages
            ))
        );
    }

    /// A failure message: what went wrong, then the conversation so far.
    fn unexpected(&self, what: &str) -> String {
        format!("{what}; the conversation so far:\n{}", self.text)
    }
}

/// The replies among `sent` (what a notifier delivered) that went to `chat`, in order.
pub fn replies_to(sent: &[(ChatKey, Reply)], chat: ChatKey) -> impl Iterator<Item = &Reply> {
    sent.iter().filter(move |(c, _)| *c == chat).map(|(_, r)| r)
}

/// The message ids of the replies among `sent` that went to `chat`, in order.
pub fn messages_to(sent: &[(ChatKey, Reply)], chat: ChatKey) -> Vec<String> {
    replies_to(sent, chat).map(|r| r.message.clone()).collect()
}

/// The shipped message `id` as `lang` renders it with `args`: to find a value (a rendered
/// status, a count, a language) in a reply without copying the locale's wording.
pub fn rendered(lang: &str, id: &str, args: &[(&str, Arg)]) -> String {
    let args: Args = args
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    engine()
        .locales()
        .format(lang, id, &args)
        .unwrap_or_else(|e| panic!("«{id}» in {lang}: {e}"))
}

/// A conversation of `chat` with any bot (one on another service, say).
pub fn transcript(bot: &Assistant, chat: impl AsChat) -> Transcript<'_> {
    Transcript {
        bot,
        chat: chat.chat(),
        lang: None,
        last: Vec::new(),
        text: String::new(),
        messages: Vec::new(),
        at: String::new(),
        seeds: Vec::new(),
    }
}

impl TestBot {
    /// A bot like [`TestBot::new`] on another engine (other settings).
    pub fn on_engine(engine: Arc<Engine>) -> Self {
        Self::build(engine, fixed_code(), Arc::new(MemoryStore::new()), |bot| {
            bot
        })
    }

    /// A bot like [`TestBot::new`] on another engine and the given store.
    pub fn on_engine_with_store(engine: Arc<Engine>, store: Arc<dyn SessionStore>) -> Self {
        Self::build(engine, fixed_code(), store, |bot| bot)
    }

    /// A bot like [`TestBot::new`] (the sandbox always sends [`CODE`]) on the given store, with
    /// its outbox (else one in memory).
    pub fn with_store_and_outbox(
        store: Arc<dyn SessionStore>,
        outbox: Option<Arc<dyn sferum_bot::notify::Outbox>>,
    ) -> Self {
        Self::build(engine(), fixed_code(), store, |bot| match outbox {
            Some(outbox) => bot.with_outbox(outbox),
            None => bot,
        })
    }

    /// A bot like [`TestBot::new`] on every store of `backends` (the session store, the outbox,
    /// the directory and the code limits), as the binary assembles them.
    pub fn on_backends(backends: &sferum_bot::backend::Backends) -> Self {
        Self::build(engine(), fixed_code(), backends.store.clone(), |bot| {
            bot.with_outbox(backends.outbox.clone())
                .with_directory(backends.directory.clone())
                .with_limits(backends.limits.clone(), b"test")
        })
    }
}

/// What pressing `label` among the buttons of `handled` sends: the same thing a Telegram button
/// sends, whichever process drew it.
pub fn press_on(handled: &sferum_bot::runtime::Handled, label: &str) -> Input {
    handled
        .replies
        .iter()
        .flat_map(|r| r.buttons.iter())
        .find(|b| b.label == label)
        .and_then(|b| b.action.callback_data())
        .and_then(|data| Input::from_callback(&data))
        .unwrap_or_else(|| panic!("no button «{label}» (or a link) in {handled:#?}"))
}

/// The texts of `handled`'s replies, joined.
pub fn text_of(handled: &sferum_bot::runtime::Handled) -> String {
    handled
        .replies
        .iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A chat in a test: a bare number is a Telegram chat, as every chat was before MAX.
pub trait AsChat {
    fn chat(self) -> ChatKey;
}

impl AsChat for i64 {
    fn chat(self) -> ChatKey {
        ChatKey::telegram(self)
    }
}

impl AsChat for ChatKey {
    fn chat(self) -> ChatKey {
        self
    }
}
