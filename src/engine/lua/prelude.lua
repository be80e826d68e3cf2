-- Shared by every usher script. KEYS: 1 meta, 2 queue, 3 pre, 4 state, 5 seen, 6 active,
-- 7 departed; all hash-tagged to the event, so one event lives in one cluster slot
-- (8-12 seats, below; 13 the bus channel, declared as a key for the cluster's sake).
-- ARGV: 1 event id, 2 how to publish ('PUBLISH' to the deployment's one channel, or
-- 'SPUBLISH' to the event's own sharded channel on a cluster), 3 now (ms), 4 random seed
-- (< 2^40), then the script's own.
local meta, queue, pre, state, seen, active, departed =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local ev = ARGV[1]
local chan, publish = KEYS[13], ARGV[2]
local now = tonumber(ARGV[3])
local seed = tonumber(ARGV[4])

-- Once the sale opens: draws the pre-queue into a uniformly random order (Fisher-Yates with
-- a Park-Miller generator seeded by the caller's OS randomness) ahead of everyone after.
-- The bus messages scripts publish, written here only, as engine::bus::BusMessage reads
-- them (the Redis engine's tests check every one against its Rust reading).
local function bus_publish(json)
  redis.call(publish, chan, json)
end
local function bus_opened()
  bus_publish('{"t":"open","e":' .. ev .. '}')
end
local function bus_config()
  bus_publish('{"t":"cfg","e":' .. ev .. '}')
end
local function bus_sold_out()
  bus_publish('{"t":"so","e":' .. ev .. '}')
end
-- a, d: queue numbers joined with commas (may be empty).
local function bus_admitted(head, a, d)
  bus_publish('{"t":"adm","e":' .. ev .. ',"h":' .. head .. ',"a":[' .. a .. '],"d":[' .. d .. ']}')
end
-- d: queue numbers joined with commas; b: the buyer who left on purpose, or nil.
local function bus_departed(d, b)
  if b then
    bus_publish('{"t":"dep","e":' .. ev .. ',"d":[' .. d .. '],"b":"' .. b .. '"}')
  else
    bus_publish('{"t":"dep","e":' .. ev .. ',"d":[' .. d .. ']}')
  end
end
local function bus_revoked(b)
  bus_publish('{"t":"rev","e":' .. ev .. ',"b":"' .. b .. '"}')
end

local function open_if_due()
  if redis.call('HGET', meta, 'opened') == '1' then return true end
  local opens = tonumber(redis.call('HGET', meta, 'opens_at') or '0')
  if now < opens then return false end
  local members = redis.call('SMEMBERS', pre)
  local seq0 = tonumber(redis.call('HGET', meta, 'seq') or '0')
  -- Every number must be reserved in the database first (see reserve.lua).
  if seq0 + #members > tonumber(redis.call('HGET', meta, 'seq_limit') or '0') then
    return false
  end
  local x = (seed % 2147483646) + 1
  for i = #members, 2, -1 do
    x = (x * 48271) % 2147483647
    local j = (x % i) + 1
    members[i], members[j] = members[j], members[i]
  end
  local seq = seq0
  for i = 1, #members do
    seq = seq + 1
    redis.call('ZADD', queue, seq, members[i])
    redis.call('HSET', state, members[i], 'W:' .. seq)
  end
  redis.call('HSET', meta, 'seq', seq, 'opened', '1')
  redis.call('DEL', pre)
  bus_opened()
  return true
end

-- Until when a buyer keeps their place: the grace period, plus the presence lease while
-- their sockets are open (renewed by every heartbeat).
local function keep_until(lease)
  return now + tonumber(redis.call('HGET', meta, 'grace_ms') or '0') + lease
end

-- A buyer put back at number `seq` after a store loss proves that every number up to it
-- was handed out: the skipped range (see reserve.lua) starts above it.
local function handed_out(seq)
  local lo = tonumber(redis.call('HGET', meta, 'gap_lo') or '0')
  local hi = tonumber(redis.call('HGET', meta, 'gap_hi') or '0')
  if seq > lo and seq <= hi then redis.call('HSET', meta, 'gap_lo', seq) end
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

-- Seats. KEYS: 8 seat states (seat -> 'H:<buyer>:<exp>' held, 'B:<buyer>:<exp>' booking in
-- progress, 'S:<buyer>' sold; absent = free), 9 hold expiries (seat by ms), 10 each buyer's
-- held seats ('1,5,9'), 11 seats sold per buyer and performance ('<buyer>:<p>'), 12 seat-map sessions (jti -> 'sid:ms').
local seats, hexp, bhold, bsold, sess = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]

local function split(s)
  local t = {}
  if s then for x in string.gmatch(s, '[^,]+') do t[#t + 1] = x end end
  return t
end

-- Seats are numbered across performances (engine::seats::Inventory): performance p's
-- seat i is p * psize + i. Holds, sales and the per-buyer limit are per performance.
local psize_cache
local function perf_of(s)
  if not psize_cache then
    psize_cache = tonumber(redis.call('HGET', meta, 'psize') or redis.call('HGET', meta, 'nseats') or '1')
    if psize_cache < 1 then psize_cache = 1 end
  end
  return math.floor(tonumber(s) / psize_cache)
end
-- The field of bsold that counts buyer b's seats sold in seat s's performance.
local function sold_key(b, s)
  return b .. ':' .. perf_of(s)
end

-- Adjusts the free-seat count; flips sold_out (which stops admission) when it changes.
local function add_free(delta)
  local free = redis.call('HINCRBY', meta, 'free', delta)
  local was = redis.call('HGET', meta, 'sold_out') == '1'
  local sold_out = free <= 0 and tonumber(redis.call('HGET', meta, 'nseats') or '0') > 0
  if sold_out ~= was then
    redis.call('HSET', meta, 'sold_out', sold_out and '1' or '0')
    bus_sold_out()
  end
end

-- Tells every instance (and so every viewer) that seats changed to st: 'free', 'held'
-- or 'sold'.
local function publish_seats(list, st)
  if #list == 0 then return end
  local parts = {}
  for i, s in ipairs(list) do parts[i] = '[' .. s .. ',"' .. st .. '"]' end
  bus_publish('{"t":"seat","e":' .. ev .. ',"c":[' .. table.concat(parts, ',') .. ']}')
end

-- Removes one seat from its holder's list.
local function unhold(holder, seat)
  local left = {}
  for _, x in ipairs(split(redis.call('HGET', bhold, holder))) do
    if x ~= seat then left[#left + 1] = x end
  end
  if #left == 0 then
    redis.call('HDEL', bhold, holder)
  else
    redis.call('HSET', bhold, holder, table.concat(left, ','))
  end
end
