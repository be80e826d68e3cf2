-- Shared by every usher script. KEYS: 1 meta, 2 queue, 3 pre, 4 state, 5 seen, 6 active,
-- 7 departed; all hash-tagged to the event, so one event lives in one cluster slot.
-- ARGV: 1 event id, 2 bus channel, 3 now (ms), 4 random seed (< 2^40), then the script's own.
local meta, queue, pre, state, seen, active, departed =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local ev = ARGV[1]
local chan = ARGV[2]
local now = tonumber(ARGV[3])
local seed = tonumber(ARGV[4])

-- Once the sale opens: draws the pre-queue into a uniformly random order (Fisher-Yates with
-- a Park-Miller generator seeded by the caller's OS randomness) ahead of everyone after.
local function open_if_due()
  if redis.call('HGET', meta, 'opened') == '1' then return true end
  local opens = tonumber(redis.call('HGET', meta, 'opens_at') or '0')
  if now < opens then return false end
  local members = redis.call('SMEMBERS', pre)
  local x = (seed % 2147483646) + 1
  for i = #members, 2, -1 do
    x = (x * 48271) % 2147483647
    local j = (x % i) + 1
    members[i], members[j] = members[j], members[i]
  end
  local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
  for i = 1, #members do
    seq = seq + 1
    redis.call('ZADD', queue, seq, members[i])
    redis.call('HSET', state, members[i], 'W:' .. seq)
  end
  redis.call('HSET', meta, 'seq', seq, 'opened', '1')
  redis.call('DEL', pre)
  redis.call('PUBLISH', chan, '{"t":"open","e":' .. ev .. '}')
  return true
end

-- Takes a buyer out of the line (or ends their session) and sets their new state.
-- Returns the queue number when they were waiting, so others move up.
local function depart(b, newstate)
  redis.call('ZREM', seen, b)
  local s = redis.call('HGET', state, b)
  redis.call('HSET', state, b, newstate)
  if not s then return nil end
  local kind = string.sub(s, 1, 1)
  if kind == 'W' then
    local seq = tonumber(string.sub(s, 3))
    redis.call('ZREM', queue, b)
    redis.call('ZADD', departed, seq, seq)
    redis.call('HINCRBY', meta, 'dep_ver', 1)
    return seq
  elseif kind == 'P' then
    redis.call('SREM', pre, b)
  elseif kind == 'A' then
    redis.call('ZREM', active, b)
  end
  return nil
end
