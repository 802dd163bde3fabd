//! Every Redis key the bot writes, named in one place, on one Redis or on a Redis Cluster.
//!
//! On one Redis (or a Sentinel-managed primary) the keys keep the names they always had, so an
//! upgrade finds its data, except the outbox: it is split into [`SHARDS`] parts by chat
//! (`outbox:{n}:…`), so that no key is written by every commit, and the one part of the versions
//! before is still drained. On a Redis Cluster every key carries a hash tag, so that each script
//! touches one slot:
//!
//! - a chat's keys (its session, its MAX update marks, its notices) and the shared structures
//!   its commit writes (the outbox's sorted set and stream, the day's counts) carry the tag of
//!   the chat's shard, `{prefix}{N}:…` with N in `0..SHARDS`: the outbox and the counts are
//!   split into [`SHARDS`] parts instead of being one key, and a chat's commit stays in one slot;
//! - the teacher directory (`{prefix}{directory}:…`) and the code limits (`{prefix}{limits}:…`),
//!   written by teachers' actions and code requests only, each keep one slot of their own.

use chrono::NaiveDate;

use crate::store::{Channel, ChatKey};

/// How many shards the chats are spread over: the day's counts and the outbox.
pub const SHARDS: i64 = 16;

/// The outbox part of the versions before the shards (one Redis only).
pub const LEGACY_PART: i64 = SHARDS;

/// The shard of `chat`.
pub fn shard_of(chat: ChatKey) -> i64 {
    chat.id.rem_euclid(SHARDS)
}

/// The names of the keys under a prefix; see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
    cluster: bool,
}

impl Keys {
    pub fn new(prefix: &str, cluster: bool) -> Self {
        Self {
            prefix: prefix.to_owned(),
            cluster,
        }
    }

    /// Whether the keys are a cluster's.
    pub fn cluster(&self) -> bool {
        self.cluster
    }

    /// `rest` under shard `shard`: tagged in a cluster.
    fn in_shard(&self, shard: i64, rest: &str) -> String {
        if self.cluster {
            format!("{}{{{shard}}}:{rest}", self.prefix)
        } else {
            format!("{}{rest}", self.prefix)
        }
    }

    /// `rest` in the slot named `tag` in a cluster.
    fn in_slot(&self, tag: &str, rest: &str) -> String {
        if self.cluster {
            format!("{}{{{tag}}}:{rest}", self.prefix)
        } else {
            format!("{}{rest}", self.prefix)
        }
    }

    /// `chat`'s session.
    pub fn session(&self, chat: ChatKey) -> String {
        self.in_shard(shard_of(chat), &format!("session:{chat}"))
    }

    /// The pattern `SCAN` finds every session with (in a cluster, on each node).
    pub fn session_pattern(&self) -> String {
        let escaped = super::conn::glob_escape(&self.prefix);
        if self.cluster {
            format!("{escaped}\\{{*}}:session:*")
        } else {
            format!("{escaped}session:*")
        }
    }

    /// The mark of `chat`'s update `update_id`, when updates are marked by a key of their own
    /// (MAX's; Telegram's were, before the per-chat mark, on one Redis only).
    pub fn update(&self, chat: ChatKey, update_id: i64) -> String {
        match chat.channel {
            Channel::Telegram => self.in_shard(shard_of(chat), &format!("update:{update_id}")),
            Channel::Max => self.in_shard(shard_of(chat), &format!("update:max:{update_id}")),
        }
    }

    /// Shard `shard` of the counts `name` (`funnel`, `unmatched`) of `day`.
    pub fn counts(&self, name: &str, day: NaiveDate, shard: i64) -> String {
        if self.cluster {
            self.in_shard(shard, &format!("{name}:{day}"))
        } else {
            format!("{}{name}:{day}:{shard}", self.prefix)
        }
    }

    /// The outbox's parts: one per shard, and on one Redis also [`LEGACY_PART`], the single
    /// sorted set and stream of the versions before the shards, still drained (never written).
    pub fn outbox_parts(&self) -> Vec<i64> {
        let mut parts: Vec<i64> = (0..SHARDS).collect();
        if !self.cluster {
            parts.push(LEGACY_PART);
        }
        parts
    }

    /// The outbox part `chat`'s notices are kept in: its shard's.
    pub fn outbox_shard(&self, chat: ChatKey) -> i64 {
        shard_of(chat)
    }

    /// `rest` of outbox part `part`: `outbox:{part}:…` on one Redis (`outbox:…` for the
    /// legacy part), `{part}:outbox:…` in a cluster.
    fn in_outbox(&self, part: i64, rest: &str) -> String {
        if self.cluster {
            self.in_shard(part, &format!("outbox:{rest}"))
        } else if part == LEGACY_PART {
            format!("{}outbox:{rest}", self.prefix)
        } else {
            format!("{}outbox:{part}:{rest}", self.prefix)
        }
    }

    /// The sorted set of the scheduled notice ids of outbox part `part`.
    pub fn scheduled(&self, part: i64) -> String {
        self.in_outbox(part, "scheduled")
    }

    /// The stream the consumer group reads, of outbox part `part`.
    pub fn stream(&self, part: i64) -> String {
        self.in_outbox(part, "stream")
    }

    /// The JSON of the notice `id` of outbox part `part`.
    pub fn notice(&self, part: i64, id: &str) -> String {
        self.in_outbox(part, &format!("notice:{id}"))
    }

    /// A key of the teacher directory.
    pub fn directory(&self, rest: &str) -> String {
        self.in_slot("directory", rest)
    }

    /// A key of the code limits.
    pub fn limits(&self, rest: &str) -> String {
        self.in_slot("limits", rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_one_redis_the_keys_keep_their_names_but_the_outbox_has_parts() {
        let keys = Keys::new("sferum:", false);
        let chat = ChatKey::telegram(4242);
        assert_eq!(keys.session(chat), "sferum:session:4242");
        assert_eq!(keys.update(ChatKey::max(7), 9), "sferum:update:max:9");
        assert_eq!(
            keys.scheduled(keys.outbox_shard(chat)),
            format!("sferum:outbox:{}:scheduled", shard_of(chat))
        );
        assert_eq!(
            keys.notice(3, "replies:1"),
            "sferum:outbox:3:notice:replies:1"
        );
        // The outbox of the versions before the shards is still drained.
        assert_eq!(keys.scheduled(LEGACY_PART), "sferum:outbox:scheduled");
        assert_eq!(keys.stream(LEGACY_PART), "sferum:outbox:stream");
        assert!(keys.outbox_parts().contains(&LEGACY_PART));
        let day = NaiveDate::from_ymd_opt(2026, 9, 7).expect("a day");
        assert_eq!(keys.counts("funnel", day, 3), "sferum:funnel:2026-09-07:3");
        assert_eq!(keys.directory("teacher:t-1"), "sferum:teacher:t-1");
        assert_eq!(keys.limits("limit:chat:1"), "sferum:limit:chat:1");
    }

    #[test]
    fn in_a_cluster_a_chats_keys_share_its_shards_tag() {
        let keys = Keys::new("sferum:", true);
        let chat = ChatKey::telegram(4242);
        let tag = format!("{{{}}}", shard_of(chat));
        let day = NaiveDate::from_ymd_opt(2026, 9, 7).expect("a day");
        let shard = keys.outbox_shard(chat);
        for key in [
            keys.session(chat),
            keys.scheduled(shard),
            keys.stream(shard),
            keys.notice(shard, "replies:4242:1:2"),
            keys.counts("funnel", day, shard_of(chat)),
            keys.counts("unmatched", day, shard_of(chat)),
        ] {
            assert!(key.starts_with(&format!("sferum:{tag}:")), "{key}");
        }
        assert_eq!(
            keys.directory("teacher:t-1"),
            "sferum:{directory}:teacher:t-1"
        );
        assert_eq!(keys.limits("limit:chat:1"), "sferum:{limits}:limit:chat:1");
        assert_eq!(keys.outbox_parts(), (0..SHARDS).collect::<Vec<_>>());
    }
}
