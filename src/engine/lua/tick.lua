-- ARGV[5]: burst seconds, ARGV[6]: max batch, ARGV[7]: sweep limit, ARGV[8]: presence
-- lease (ms), ARGV[9]: the gap between steps that counts as an outage (ms).
-- Returns {admissions as JSON objects joined by ',', dropped seqs joined by ',', expired}.
if redis.call('HEXISTS', meta, 'rate') == 0 then return {'', '', 0} end
if not open_if_due() then return {'', '', 0} end
local burst_s, max_batch, sweep = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local lease, outage = tonumber(ARGV[8]), tonumber(ARGV[9])
local c = redis.call('HMGET', meta, 'rate', 'max_active', 'session_ms', 'grace_ms',
  'paused', 'sold_out', 'tokens', 'last_ms', 'head', 'nodrop_until', 'salt',
  'last_server_ms', 'restored', 'admit_after')
local rate, cap, session = tonumber(c[1]), tonumber(c[2]), tonumber(c[3])
local head = tonumber(c[9] or '0')
local salt = tonumber(c[11] or '0')
local dropped, admitted = {}, {}

-- No step ran for a while: no instance could reach Redis (or none was up), so nobody's
-- heartbeat could come in. Drop nobody until the connected buyers' next heartbeats have
-- had a lease to arrive.
-- The gap is also measured on Redis's own clock: a Redis that was frozen (SIGSTOP, a
-- stalled host) wakes up to the steps and heartbeats queued meanwhile, each run with the
-- `now` it was sent with, so the instances' times show no gap; Redis's shows the freeze.
local nodrop_until = tonumber(c[10] or '0')
local t = redis.call('TIME')
local server_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last_server = tonumber(c[12] or '0')
if c[8] then
  local gap = now - tonumber(c[8])
  local server_gap = 0
  if last_server > 0 then server_gap = server_ms - last_server end
  if math.max(gap, server_gap) > outage then
    -- How much older than the wake-up this step's `now` may be: the part of the gap
    -- that Redis saw and the instances' times did not (0 when every instance was down).
    local stale = math.max(0, server_gap - gap)
    nodrop_until = math.max(nodrop_until, now + stale + lease)
    redis.call('HSET', meta, 'nodrop_until', string.format('%d', nodrop_until))
  end
end
redis.call('HSET', meta, 'last_server_ms', string.format('%d', server_ms))
local may_drop = now >= nodrop_until

-- The store lost its data and was just restored: admit nobody for one presence lease,
-- while the rooms put their connected buyers back at their numbers.
local admit_after = tonumber(c[14] or '0')
if c[13] == '1' then
  admit_after = now + lease
  redis.call('HSET', meta, 'admit_after', string.format('%d', admit_after), 'restored', '0')
end
local may_admit = now >= admit_after

-- `seen` holds until when each buyer keeps their place.
if may_drop then
  for _, b in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. now, 'LIMIT', 0, sweep)) do
    local seq = depart(b, 'G')
    if seq then dropped[#dropped + 1] = seq end
  end
end
local expired = redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, sweep)
for _, b in ipairs(expired) do
  redis.call('ZREM', active, b)
  redis.call('HSET', state, b, 'G')
end

local burst = math.max(1, rate * burst_s)
local tokens = burst
if c[8] then
  tokens = math.min(burst, tonumber(c[7]) + math.max(0, now - tonumber(c[8])) / 1000 * rate)
end
if c[5] ~= '1' and c[6] ~= '1' and may_admit then
  local n = math.min(math.floor(tokens), cap - redis.call('ZCARD', active), max_batch)
  -- The head of the line is read a window at a time (ZRANGE, then ZMSCORE for their
  -- presence), and the admitted are written at the end, one command per key. Dropped
  -- buyers leave the line at once (depart), so the admitted still in it are always its
  -- first `taken`, and the next window starts after them.
  local taken, stop = 0, false
  local adm_b, adm_active, adm_state = {}, {}, {}
  while n > 0 and not stop do
    local top = redis.call('ZRANGE', queue, taken, taken + n - 1, 'WITHSCORES')
    if #top == 0 then break end
    local members = {}
    for i = 1, #top, 2 do members[#members + 1] = top[i] end
    local scores = redis.call('ZMSCORE', seen, unpack(members))
    for k, b in ipairs(members) do
      local seq, sc = tonumber(top[2 * k]), scores[k]
      if ((not sc) or tonumber(sc) < now) and not may_drop then
        stop = true
        break
      elseif (not sc) or tonumber(sc) < now then
        depart(b, 'G')
        dropped[#dropped + 1] = seq
      else
        local jti = string.format('%s-%d-%08x', ev, seq, salt)
        local exp = now + session
        adm_b[#adm_b + 1] = b
        adm_active[#adm_active + 1] = exp
        adm_active[#adm_active + 1] = b
        adm_state[#adm_state + 1] = b
        adm_state[#adm_state + 1] = 'A:' .. seq .. ':' .. jti .. ':' .. string.format('%d', exp)
        head = seq
        tokens = tokens - 1
        n = n - 1
        taken = taken + 1
        admitted[#admitted + 1] = string.format(
          '{"buyer":"%s","seq":%d,"jti":"%s","exp_ms":%d}', b, seq, jti, exp)
      end
    end
  end
  if #adm_b > 0 then
    redis.call('ZREM', queue, unpack(adm_b))
    redis.call('ZREM', seen, unpack(adm_b))
    redis.call('ZADD', active, unpack(adm_active))
    redis.call('HSET', state, unpack(adm_state))
  end
end
redis.call('HSET', meta, 'tokens', tostring(tokens), 'last_ms', string.format('%d', now), 'head', head)
if #admitted > 0 then redis.call('HINCRBY', meta, 'admitted_total', #admitted) end
redis.call('ZREMRANGEBYSCORE', departed, '-inf', head)
local a, d = table.concat(admitted, ','), table.concat(dropped, ',')
if #admitted > 0 or #dropped > 0 then
  bus_admitted(head, a, d)
end
return {a, d, #expired}
