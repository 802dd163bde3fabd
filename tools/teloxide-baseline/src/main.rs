//! The load benchmark's baseline: what a minimal teloxide 0.17 bot does for the journey the
//! benchmark drives (`/start` → a role button → a typed question → `/help` → `/menu`), with its
//! four states in `dialogue::RedisStorage<Json>` and updates from teloxide's own axum webhook.
//! It reads the product's setting names: `TELOXIDE_TOKEN`, `TELEGRAM_API_URL`, `REDIS_URL`,
//! `WEBHOOK_URL`, `WEBHOOK_LISTEN`, `WEBHOOK_SECRET`.

use teloxide::dispatching::dialogue::{serializer::Json, RedisStorage};
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::update_listeners::webhooks;
use teloxide::utils::command::BotCommands;

type Store = RedisStorage<Json>;
type Chat = Dialogue<State, Store>;
type Handled = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The four states of the journey.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
enum State {
    #[default]
    Start,
    ChoosingRole,
    Parent,
    Answered,
}

#[derive(Clone, BotCommands)]
#[command(rename_rule = "lowercase")]
enum Command {
    Start,
    Help,
    Menu,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

#[tokio::main]
async fn main() {
    let api: url::Url = env("TELEGRAM_API_URL").parse().expect("TELEGRAM_API_URL");
    let bot = Bot::new(env("TELOXIDE_TOKEN")).set_api_url(api);
    let storage = Store::open(&env("REDIS_URL"), Json).await.expect("redis");
    let url: url::Url = env("WEBHOOK_URL").parse().expect("WEBHOOK_URL");
    let listen = env("WEBHOOK_LISTEN").parse().expect("WEBHOOK_LISTEN");
    let options = webhooks::Options::new(listen, url).secret_token(env("WEBHOOK_SECRET"));
    let listener = webhooks::axum(bot.clone(), options).await.expect("webhook");
    Dispatcher::builder(bot, schema())
        .dependencies(dptree::deps![storage])
        .build()
        .dispatch_with_listener(listener, LoggingErrorHandler::new())
        .await;
}

fn schema() -> UpdateHandler<Box<dyn std::error::Error + Send + Sync + 'static>> {
    let commands = teloxide::filter_command::<Command, _>()
        .branch(dptree::case![Command::Start].endpoint(start))
        .branch(dptree::case![Command::Help].endpoint(help))
        .branch(dptree::case![Command::Menu].endpoint(menu));
    let messages = Update::filter_message()
        .branch(commands)
        .branch(dptree::case![State::Parent].endpoint(question))
        .branch(dptree::endpoint(not_understood));
    let taps = Update::filter_callback_query().endpoint(role);
    dptree::entry()
        .enter_dialogue::<Update, Store, State>()
        .branch(messages)
        .branch(taps)
}

fn keyboard(labels: &[&str]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(
        labels
            .iter()
            .map(|l| vec![InlineKeyboardButton::callback(*l, *l)]),
    )
}

async fn start(bot: Bot, chat: Chat, msg: Message) -> Handled {
    bot.send_message(msg.chat.id, "Hello! Who are you?")
        .reply_markup(keyboard(&["parent", "student", "teacher"]))
        .await?;
    chat.update(State::ChoosingRole).await?;
    Ok(())
}

async fn role(bot: Bot, chat: Chat, tap: CallbackQuery) -> Handled {
    bot.answer_callback_query(tap.id.clone()).await?;
    bot.send_message(chat.chat_id(), "Does your child have a Gosuslugi account?")
        .reply_markup(keyboard(&["yes", "no", "back"]))
        .await?;
    chat.update(State::Parent).await?;
    Ok(())
}

async fn question(bot: Bot, chat: Chat, msg: Message) -> Handled {
    bot.send_message(msg.chat.id, "Then register with the code from the school.")
        .reply_markup(keyboard(&["menu"]))
        .await?;
    chat.update(State::Answered).await?;
    Ok(())
}

/// The help, then where the conversation is, again: two messages, as sferum-bot's `/help`
/// sends (the same work).
async fn help(bot: Bot, chat: Chat, msg: Message) -> Handled {
    // Read and kept, as a bot with a dialogue does for every update.
    let state = chat.get_or_default().await?;
    bot.send_message(msg.chat.id, "Write /menu to start again.")
        .await?;
    bot.send_message(msg.chat.id, "Then register with the code from the school.")
        .reply_markup(keyboard(&["menu"]))
        .await?;
    chat.update(state).await?;
    Ok(())
}

async fn menu(bot: Bot, chat: Chat, msg: Message) -> Handled {
    bot.send_message(msg.chat.id, "Menu")
        .reply_markup(keyboard(&["parent", "student", "teacher"]))
        .await?;
    chat.update(State::ChoosingRole).await?;
    Ok(())
}

async fn not_understood(bot: Bot, msg: Message) -> Handled {
    bot.send_message(msg.chat.id, "Sorry?").await?;
    Ok(())
}
