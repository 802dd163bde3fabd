//! sferum-bot: guides families and teachers through registration on the Сферум platform.
//!
//! The crate follows the data, layer by layer:
//!
//! - [`domain`]: parsed values (`Phone`, `Email`, `ChildContact`, `VerificationCode`,
//!   `InviteToken`, `ChildName`) whose constructors reject bad input.
//! - [`script`]: the scenarios of `dialogues/` as data, their loader and the static checker.
//! - [`i18n`]: the Fluent bundles of `locales/`, one per language.
//! - [`engine`]: the pure conversation engine: session + input + now → a turn (what to say, the
//!   one call it waits for, what follows its commit, the steps it passed through).
//! - [`service`]: the `RegistrationService` port and its adapters (in-process sandbox, HTTP).
//! - [`store`]: the `SessionStore` port; [`backend`]: the adapters of every storage port, by
//!   kind (memory, Redis), and `backend::open` that picks them from the settings.
//! - [`directory`]: which chat serves each teacher, and the applications the bot follows.
//! - [`limits`]: limits on verification codes per chat and per address (no SMS pumping).
//! - [`runtime`]: one update as one transaction: drive the engine, commit, then follow up.
//! - [`notify`]: the outbox of messages the bot sends on its own (notifications, reminders).
//! - [`transport`]: the ways people reach the bot (terminal chat, Telegram, MAX).
//! - [`ops`]: what operators see: metrics, the funnel of every step, the `/stats` page.
//! - [`config`]: typed settings read from the environment; [`startup`] loads and checks.
//! - [`clock`]: time as a dependency; [`school`]: the school's time zone, working days and
//!   quiet hours.
//! - [`calendar`]: the Russian production calendar of `calendar/`, and working-day arithmetic.

pub mod backend;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod directory;
pub mod domain;
pub mod engine;
pub mod i18n;
pub mod limits;
pub mod notify;
pub mod ops;
pub mod runtime;
pub mod school;
pub mod script;
pub mod service;
pub mod startup;
pub mod store;
pub mod transport;
