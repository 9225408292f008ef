"""The Lua scripts of the Redis consent store (processor.adapters.redis_store): each touches
only the keys passed in KEYS, so a call runs on one node of a Redis Cluster."""

LOAD_SCRIPT = """
-- KEYS: per phone its state key then its outcome keys; ARGV: outcome-key count per phone.
local out = {}
local k = 1
for i = 1, #ARGV do
  local n = tonumber(ARGV[i])
  out[#out + 1] = redis.call('HGETALL', KEYS[k])
  if n > 0 then
    local keys = {}
    for j = 1, n do keys[j] = KEYS[k + j] end
    out[#out + 1] = redis.call('MGET', unpack(keys))
  else
    out[#out + 1] = {}
  end
  k = k + 1 + n
end
return out
"""

COMMIT_SCRIPT = """
-- KEYS[1]: the partition's progress hash (any key of the call's slot when ARGV[2] is 0);
--          then per phone its state key then its outcome keys.
-- ARGV: retention_ms, #progress entries, (input topic, committed, covered) per entry,
--       then per phone: #subscriptions, #outcomes,
--       (field, version read, new value) per subscription, outcome value per outcome.
-- All checks of the call pass before anything is written: all or nothing. The progress check
-- comes first: a store behind Kafka's committed offsets lost writes, and what it holds must
-- not be decided on (nor written over) until it is recovered.
local function version(value)
  if not value then return 0 end
  return tonumber(string.match(value, '^%[(%d+)'))
end
local nprogress = tonumber(ARGV[2])
local a = 3
for i = 1, nprogress do
  local held = tonumber(redis.call('HGET', KEYS[1], ARGV[a]) or '-1')
  if held < tonumber(ARGV[a + 1]) then
    return {2, ARGV[a], held, tonumber(ARGV[a + 1])}
  end
  a = a + 3
end
local first = a
local k = 2
while k <= #KEYS do
  local nsubs, nout = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  for i = 1, nsubs do
    local current = version(redis.call('HGET', KEYS[k], ARGV[a]))
    if current ~= tonumber(ARGV[a + 1]) then
      return {0, KEYS[k], ARGV[a], current, tonumber(ARGV[a + 1])}
    end
    a = a + 3
  end
  a = a + nout
  k = k + 1 + nout
end
a, k = first, 2
while k <= #KEYS do
  local nsubs, nout = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  if nsubs > 0 then
    local pairs_ = {}
    for i = 1, nsubs do
      pairs_[#pairs_ + 1] = ARGV[a]
      pairs_[#pairs_ + 1] = ARGV[a + 2]
      a = a + 3
    end
    redis.call('HSET', KEYS[k], unpack(pairs_))
  end
  for j = 1, nout do
    redis.call('SET', KEYS[k + j], ARGV[a], 'PX', ARGV[1])
    a = a + 1
  end
  k = k + 1 + nout
end
a = 3
for i = 1, nprogress do
  local held = tonumber(redis.call('HGET', KEYS[1], ARGV[a]) or '-1')
  if tonumber(ARGV[a + 2]) > held then
    redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 2])
  end
  a = a + 3
end
return {1}
"""

RESTORE_SCRIPT = """
-- KEYS: state keys. ARGV: per key: #subscriptions, then (field, version, packed value) per
-- subscription; an empty value deletes the field (a tombstone). A subscription already at a
-- higher version in the store is newer than the topic's copy and stays.
local function version(value)
  if not value then return 0 end
  return tonumber(string.match(value, '^%[(%d+)'))
end
local a, written = 1, 0
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  a = a + 1
  for i = 1, n do
    if ARGV[a + 2] == '' then
      redis.call('HDEL', KEYS[k], ARGV[a])
    elseif version(redis.call('HGET', KEYS[k], ARGV[a])) <= tonumber(ARGV[a + 1]) then
      redis.call('HSET', KEYS[k], ARGV[a], ARGV[a + 2])
      written = written + 1
    end
    a = a + 3
  end
end
return written
"""


SETTLE_SCRIPT = """
-- KEYS[1]: a partition's window index. ARGV: #retries, then (member, seen score, new score)
-- per retry, then (member, seen score) per drop. An entry whose score changed since the timer
-- read it (a newer window) is left alone.
local retries = tonumber(ARGV[1])
local a = 2
for i = 1, retries do
  if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[a])) == tonumber(ARGV[a + 1]) then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[a + 2], ARGV[a])
  end
  a = a + 3
end
while a <= #ARGV do
  if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[a])) == tonumber(ARGV[a + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[a])
  end
  a = a + 2
end
return 1
"""
