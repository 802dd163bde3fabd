//! The outbox's Lua scripts, each one atomic step on the schedule, the stream and the
//! notices (see the outbox's module documentation for the layout).

/// `KEYS[1]`: the sorted set; `KEYS[2]`: the notice key; `ARGV[1]`: the notice id; `ARGV[2]`:
/// the notice JSON; `ARGV[3]`: the due time in milliseconds; `ARGV[4]`: `keep` or `replace`;
/// `ARGV[5]`: the notice key's expiry in milliseconds (it names a chat: it must not outlive
/// its use).
///
/// Answers 1 when the notice was scheduled (or replaced), 0 when it was left alone.
pub(super) const SCHEDULE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then
  if ARGV[4] == 'keep' then
    return 0
  end
  if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[5])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
";

/// `KEYS[1]`: the sorted set; `ARGV[1]`: the notice keys' pattern; `ARGV[2]`: the chat;
/// `ARGV[3]`: the SCAN cursor; `ARGV[4]`: how many keys one step looks at.
///
/// Drops every notice of the chat among one `SCAN` step's keys (scheduled or in flight: a
/// stream entry whose notice is gone is acked and skipped when claimed). Answers
/// `{next cursor, dropped}`.
pub(super) const FORGET_SCRIPT: &str = r"
local found = redis.call('SCAN', ARGV[3], 'MATCH', ARGV[1], 'COUNT', ARGV[4])
local dropped = 0
for _, key in ipairs(found[2]) do
  local json = redis.call('GET', key)
  if json then
    local ok, notice = pcall(cjson.decode, json)
    if ok and tostring(notice.chat) == ARGV[2] then
      redis.call('ZREM', KEYS[1], notice.id)
      redis.call('DEL', key)
      dropped = dropped + 1
    end
  end
end
return {found[1], dropped}
";

/// `KEYS[1]`: the sorted set; `KEYS[1 + n]`: the key of the notice `ARGV[n]`.
///
/// Answers how many scheduled notices were dropped (one in flight, or none, is not).
pub(super) const CANCEL_SCRIPT: &str = r"
local dropped = 0
for n = 1, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[n]) == 1 then
    redis.call('DEL', KEYS[1 + n])
    dropped = dropped + 1
  end
end
return dropped
";

/// `KEYS[1]`: the sorted set; `KEYS[2]`: the stream; `ARGV[1]`: now in milliseconds; `ARGV[2]`:
/// the most to move; `ARGV[3]`: the group.
///
/// Answers how many entries the stream holds afterwards (acked entries are deleted, so these
/// are the ones in flight): 0 means there is nothing to read or take over.
pub(super) const MOVE_SCRIPT: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #ids == 0 then
  return redis.call('XLEN', KEYS[2])
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[3], '0', 'MKSTREAM')
end
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return redis.call('XLEN', KEYS[2])
";

/// `KEYS[1]`: the stream; `KEYS[2]` (optional): the notice key; `ARGV[1]`: the group;
/// `ARGV[2]`: the entry id.
///
/// Answers 1 when the entry was pending (and is now acked), 0 otherwise.
pub(super) const ACK_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if acked == 1 and #KEYS == 2 then
  redis.call('DEL', KEYS[2])
end
return acked
";
