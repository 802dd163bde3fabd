//! The MAX messenger: the transport ([`transport::Max`]) and its Bot API client, a small typed
//! client on `reqwest` for the few calls the bot makes (long polling, sending, answering button
//! presses, uploading a QR image, webhook subscriptions).
//!
//! - [`transport`]: updates into the conversation, replies into MAX messages.
//! - [`serve`]: long polling, or a webhook subscription whose secret every delivery must carry.
//! - [`wire`]: the JSON shapes, as the official schema names them, reduced to what the bot reads
//!   and writes; an update the bot does not know (or cannot read) becomes [`wire::Update::Other`]
//!   so that one odd update never stalls a poll.
//! - [`client`]: [`client::MaxClient`], its limits and errors.
//!
//! The facts come from `shared/max-bot-api.md` and its sources; each type and call names the
//! source it rests on and what is not verified.

pub mod client;
pub mod serve;
pub mod transport;
pub mod wire;

#[cfg(test)]
mod tests;
