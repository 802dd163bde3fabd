//! The Telegram transport: turns Telegram updates into engine inputs and the runtime's replies
//! into Telegram messages with inline keyboards, within Telegram's rules.
//!
//! - Text and commands go to the engine as typed; `/start <payload>` carries a deep link (the
//!   engine refuses payloads that are not 1–64 characters of `A-Za-z0-9_-`).
//! - Button presses arrive as callback data `<offer>:<index>`: the offer number identifies the
//!   message (and so the step) the button belongs to, so a button of an older message is answered
//!   as stale. Every press is answered (`answerCallbackQuery`).
//! - A shared contact is accepted where the parent's own phone is asked, and only if it is the
//!   sender's own; the child's phone is always typed.
//! - Photos, stickers, voice, files and the like get a short polite reply; the conversation stays
//!   where it was.
//! - An edited message is not re-read (it may be an old answer): the user is asked to send the
//!   correction as a new message, and the conversation stays where it was.
//! - Updates are deduplicated by `update_id` (Telegram delivers at least once). Updates of one
//!   chat are handled in order, different chats in parallel (teloxide's dispatcher distributes
//!   by chat).
//! - Messages over 4096 characters are split at paragraph boundaries; a 429 answer's
//!   `retry_after` is waited out and the message sent again, never dropped.

use std::sync::Arc;
use std::time::Duration;

use teloxide::payloads::{SendMessageSetters, SetMyCommandsSetters};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ButtonRequest, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, ReplyMarkup, UpdateKind,
};
use teloxide::RequestError;

use crate::engine::{ButtonTarget, Input};
use crate::i18n::{Args, DEFAULT_LANG};
use crate::runtime::notifier::{Courier, Undelivered};
use crate::runtime::{Bot as Core, Handled, Reply, RuntimeError};

/// Telegram's limit on a message's length, in UTF-16 code units... counted here in characters,
/// which is never more than the code units.
pub const MESSAGE_LIMIT: usize = 4096;
/// How many times a message is retried after a 429.
const RETRY_AFTER_ATTEMPTS: usize = 5;

/// The commands shown in Telegram's menu, each described by the Fluent message `cmd-<name>`.
pub const COMMANDS: &[&str] = &[
    "menu", "back", "help", "reset", "lang", "forget", "invite", "pending",
];

/// What an update asks of the bot.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Something for the engine.
    Input(Input),
    /// A press whose callback data is not ours (or is damaged).
    BadButton,
    /// A kind of message the bot does not read (photo, sticker, voice, file…).
    Unsupported,
    /// A contact that is not the sender's own.
    ForeignContact,
    /// An edited message.
    Edited,
    /// Nothing to answer (service updates, other chats).
    Ignore,
}

/// Reads an update: the chat it belongs to, the user's client language, and what it asks.
pub fn classify(update: &Update) -> (Option<ChatId>, Option<String>, Incoming) {
    match &update.kind {
        UpdateKind::Message(message) => {
            let lang = message.from.as_ref().and_then(|u| u.language_code.clone());
            if !message.chat.is_private() {
                return (Some(message.chat.id), lang, Incoming::Ignore);
            }
            let incoming = if let Some(text) = message.text() {
                Incoming::Input(Input::from_text(text))
            } else if let Some(contact) = message.contact() {
                let own = message
                    .from
                    .as_ref()
                    .is_some_and(|u| contact.user_id == Some(u.id));
                if own {
                    Incoming::Input(Input::Text(contact.phone_number.clone()))
                } else {
                    Incoming::ForeignContact
                }
            } else {
                Incoming::Unsupported
            };
            (Some(message.chat.id), lang, incoming)
        }
        UpdateKind::EditedMessage(message) if message.chat.is_private() => {
            let lang = message.from.as_ref().and_then(|u| u.language_code.clone());
            (Some(message.chat.id), lang, Incoming::Edited)
        }
        UpdateKind::CallbackQuery(query) => {
            let chat = query.message.as_ref().map(|m| m.chat().id);
            let lang = query.from.language_code.clone();
            let incoming = match query.data.as_deref().and_then(Input::from_callback) {
                Some(input) => Incoming::Input(input),
                None => Incoming::BadButton,
            };
            (chat, lang, incoming)
        }
        _ => (update.chat().map(|c| c.id), None, Incoming::Ignore),
    }
}

/// Splits `text` into pieces of at most `limit` characters, at paragraph boundaries where
/// possible, then at line ends, then at spaces, and only as a last resort inside a word.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > limit {
        let cut_at = rest
            .char_indices()
            .nth(limit)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..cut_at];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&i| i > 0))
            .unwrap_or(cut_at);
        pieces.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

/// The Telegram side of the bot.
#[derive(Clone)]
pub struct Telegram {
    api: teloxide::Bot,
    core: Arc<Core>,
}

impl Telegram {
    pub fn new(api: teloxide::Bot, core: Arc<Core>) -> Self {
        Self { api, core }
    }

    pub fn api(&self) -> &teloxide::Bot {
        &self.api
    }

    /// Sets the command menu in every language the bot speaks (and the default one).
    pub async fn set_commands(&self) -> Result<(), RequestError> {
        let locales = self.core.engine().locales();
        for lang in locales.languages().map(str::to_owned).collect::<Vec<_>>() {
            let commands = COMMANDS
                .iter()
                .map(|name| {
                    let description = locales
                        .format(&lang, &format!("cmd-{name}"), &Args::new())
                        .unwrap_or_else(|_| (*name).to_owned());
                    BotCommand::new(*name, description)
                })
                .collect::<Vec<_>>();
            let request = self.api.set_my_commands(commands.clone());
            let request = if lang == DEFAULT_LANG {
                request
            } else {
                request.language_code(lang.clone())
            };
            with_retry_after(|| request.send_ref()).await?;
        }
        Ok(())
    }

    /// Handles one update completely: dedupe, engine, replies.
    pub async fn handle(&self, update: Update) -> Result<(), RequestError> {
        let update_id = i64::from(update.id.0);
        let (chat, lang, incoming) = classify(&update);
        if let UpdateKind::CallbackQuery(query) = &update.kind {
            // Answer first, so the button stops spinning even if the rest is slow.
            if let Err(error) =
                with_retry_after(|| self.api.answer_callback_query(query.id.clone()).send_ref())
                    .await
            {
                tracing::warn!(%error, "could not answer a button press");
            }
        }
        let Some(chat) = chat else {
            return Ok(());
        };
        let notice = match incoming {
            Incoming::Input(input) => {
                return self.converse(chat, update_id, lang.as_deref(), input).await;
            }
            Incoming::Ignore => return Ok(()),
            Incoming::BadButton => "button-stale",
            Incoming::Unsupported => "unsupported-message",
            Incoming::ForeignContact => "contact-not-own",
            Incoming::Edited => "edited-message",
        };
        let lang = self.core.engine().locales().pick_language(lang.as_deref());
        let text = self
            .core
            .engine()
            .locales()
            .format(&lang, notice, &Args::new())
            .unwrap_or_default();
        self.send(chat, &Reply::text(text)).await
    }

    async fn converse(
        &self,
        chat: ChatId,
        update_id: i64,
        lang: Option<&str>,
        input: Input,
    ) -> Result<(), RequestError> {
        match self
            .core
            .handle_update(chat.0, Some(update_id), lang, input)
            .await
        {
            Ok(Some(handled)) => {
                self.deliver(chat, &handled).await?;
                self.core.delivered(&handled).await;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(error) => {
                tracing::error!(chat = chat.0, %error, "the update could not be handled");
                let message = match error {
                    RuntimeError::Store(_) => "error-store-unavailable",
                    RuntimeError::Render(_) => "error-internal",
                };
                let lang = self.core.engine().locales().pick_language(lang);
                let text = self
                    .core
                    .engine()
                    .locales()
                    .format(&lang, message, &Args::new())
                    .unwrap_or_default();
                self.send(chat, &Reply::text(text)).await
            }
        }
    }

    /// Sends what one turn produced, in order.
    pub async fn deliver(&self, chat: ChatId, handled: &Handled) -> Result<(), RequestError> {
        for reply in &handled.replies {
            self.send(chat, reply).await?;
        }
        Ok(())
    }

    /// Sends one reply, split if it is too long; buttons go with the last piece. A reply with a
    /// QR code goes first as a picture.
    pub async fn send(&self, chat: ChatId, reply: &Reply) -> Result<(), RequestError> {
        if let Some(png) = reply.qr.as_deref().and_then(qr_png) {
            let photo = InputFile::memory(png).file_name("invite-qr.png");
            with_retry_after(|| self.api.send_photo(chat, photo.clone()).send_ref()).await?;
        }
        let pieces = split_message(&reply.text, MESSAGE_LIMIT);
        let last = pieces.len().saturating_sub(1);
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut request = self.api.send_message(chat, piece);
            if i == last {
                if let Some(markup) = inline_keyboard(&reply.buttons) {
                    request = request.reply_markup(markup);
                } else if let Some(label) = &reply.share_contact {
                    let button = KeyboardButton::new(label.clone()).request(ButtonRequest::Contact);
                    let keyboard = KeyboardMarkup::new(vec![vec![button]])
                        .resize_keyboard()
                        .one_time_keyboard();
                    request = request.reply_markup(ReplyMarkup::Keyboard(keyboard));
                }
            }
            with_retry_after(|| request.send_ref()).await?;
        }
        Ok(())
    }
}

/// Why the bot stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("Telegram refused to set the webhook: {0}")]
    Webhook(#[source] RequestError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Serves updates until `stop` completes (the binary passes SIGINT or SIGTERM): long polling, or
/// a webhook (with Telegram's secret-token check and a `/health` endpoint) when `webhook` is set.
/// Then the listener stops and the updates in flight are finished before this returns.
pub async fn serve(
    telegram: Telegram,
    webhook: Option<crate::config::WebhookSettings>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use teloxide::dispatching::{Dispatcher, UpdateHandler};
    use teloxide::error_handlers::LoggingErrorHandler;
    use teloxide::update_listeners::webhooks;

    let handler: UpdateHandler<RequestError> =
        dptree::entry().endpoint(|update: Update, telegram: Telegram| async move {
            telegram.handle(update).await
        });
    let mut dispatcher = Dispatcher::builder(telegram.api.clone(), handler)
        .dependencies(dptree::deps![telegram.clone()])
        .error_handler(LoggingErrorHandler::with_custom_text(
            "a Telegram request failed",
        ))
        .build();
    let shutdown = dispatcher.shutdown_token();
    tokio::spawn(async move {
        stop.await;
        tracing::info!("stopping: finishing the updates in flight");
        // The dispatcher may not be running yet; try until it takes the request.
        loop {
            match shutdown.shutdown() {
                Ok(done) => return done.await,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    match webhook {
        None => {
            tracing::info!("receiving updates by long polling");
            dispatcher.dispatch().await;
        }
        Some(hook) => {
            let options = webhooks::Options::new(hook.listen, hook.url.clone())
                .secret_token(hook.secret.expose().to_owned());
            let (listener, stopped, router) =
                webhooks::axum_to_router(telegram.api.clone(), options)
                    .await
                    .map_err(ServeError::Webhook)?;
            let router = router.route("/health", axum::routing::get(|| async { "ok" }));
            let socket = tokio::net::TcpListener::bind(hook.listen)
                .await
                .map_err(|source| ServeError::Listen {
                    address: hook.listen,
                    source,
                })?;
            tracing::info!(address = %hook.listen, "receiving updates by webhook");
            let server = tokio::spawn(async move {
                if let Err(error) = axum::serve(socket, router)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(%error, "the webhook server failed");
                }
            });
            dispatcher
                .dispatch_with_listener(
                    listener,
                    LoggingErrorHandler::with_custom_text("the webhook listener failed"),
                )
                .await;
            let _ = server.await;
        }
    }
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
pub async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = async {
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    term.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `text` as a QR code picture (PNG), large enough to print or scan from a screen.
pub fn qr_png(text: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(400, 400)
        .build();
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(png)
}

#[async_trait::async_trait]
impl Courier for Telegram {
    async fn send(&self, chat: i64, reply: &Reply) -> Result<(), Undelivered> {
        use teloxide::ApiError;
        Telegram::send(self, ChatId(chat), reply)
            .await
            .map_err(|error| match error {
                RequestError::Api(
                    ApiError::BotBlocked
                    | ApiError::UserDeactivated
                    | ApiError::ChatNotFound
                    | ApiError::BotKicked,
                ) => Undelivered::Never(error.to_string()),
                other => Undelivered::Retry(other.to_string()),
            })
    }
}

/// One button per row, so long Russian labels stay readable on a phone.
fn inline_keyboard(buttons: &[crate::runtime::ReplyButton]) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons
        .iter()
        .filter_map(|b| match (&b.action, b.action.callback_data()) {
            (_, Some(data)) => Some(InlineKeyboardButton::callback(b.label.clone(), data)),
            (ButtonTarget::Url(url), None) => url
                .parse()
                .ok()
                .map(|url| InlineKeyboardButton::url(b.label.clone(), url)),
            _ => None,
        })
        .map(|b| vec![b])
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// Runs a request, waiting out Telegram's `retry_after` on 429 and trying again.
pub async fn with_retry_after<T, F, Fut>(mut request: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: std::future::IntoFuture<Output = Result<T, RequestError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match request().await {
            Err(RequestError::RetryAfter(wait)) if attempt < RETRY_AFTER_ATTEMPTS => {
                tracing::info!(seconds = wait.seconds(), "Telegram asked to slow down");
                tokio::time::sleep(wait.duration().max(Duration::from_millis(50))).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_not_split() {
        assert_eq!(split_message("Привет", 4096), ["Привет"]);
    }

    #[test]
    fn long_messages_split_at_paragraphs_and_keep_every_character() {
        let paragraph = "Абзац ".repeat(300); // 1800 characters
        let text = format!("{p}\n\n{p}\n\n{p}", p = paragraph.trim());
        let pieces = split_message(&text, 4096);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096));
        assert!(pieces[0].ends_with("Абзац"));
        let joined: String = pieces.concat();
        assert_eq!(
            joined.chars().filter(|c| !c.is_whitespace()).count(),
            text.chars().filter(|c| !c.is_whitespace()).count()
        );
    }

    #[test]
    fn a_single_huge_word_is_cut_hard() {
        let text = "я".repeat(9000);
        let pieces = split_message(&text, 4096);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096));
    }
}
