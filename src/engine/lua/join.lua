-- ARGV[5]: presence lease (ms), then pairs of (buyer, queue number the buyer's credential
-- carries, '0': none): one or many joins, decided one after the other in this order, as
-- separate calls would. Returns one answer per buyer, in order: kind, seq, jti, exp,
-- resumed, pre-queue size; kind 'U': not configured, 'L': no queue number reserved (the
-- caller fixes and retries). Each answer is one string, the six fields joined by spaces (a
-- jti has none).
-- Per call, not per buyer: the event's counters are read once (HMGET), the buyers'
-- states in one HMGET, and the writes of every new place go out as one ZADD / HSET per
-- key at the end. Nothing reads them in between but this script (the later buyers of the
-- batch look at `mine` first), so the outcome is the one of separate calls.
local lease = tonumber(ARGV[5]) or 0
local out = {}
local function answer(kind, seq, jti, exp, resumed, pre)
  out[#out + 1] = kind .. ' ' .. seq .. ' ' .. jti .. ' ' .. exp .. ' ' .. resumed .. ' ' .. pre
end
local buyers, claims = {}, {}
for i = 6, #ARGV - 1, 2 do
  buyers[#buyers + 1] = ARGV[i]
  claims[#claims + 1] = tonumber(ARGV[i + 1]) or 0
end
if #buyers == 0 then return out end
local m = redis.call('HMGET', meta, 'rate', 'opened', 'seq', 'seq_limit', 'grace_ms', 'opens_at')
if not m[1] then
  for _ = 1, #buyers do answer('U', '0', '', '0', '0', '0') end
  return out
end
local opened, tried, drawn = m[2] == '1', false, false
local seq0 = tonumber(m[3] or '0')
local seq, limit = seq0, tonumber(m[4] or '0')
local opens_at = tonumber(m[6] or '0')
local until_ms = now + tonumber(m[5] or '0') + lease -- keep_until(lease)
local stored = redis.call('HMGET', state, unpack(buyers))
local mine = {} -- states this call set, ahead of `stored`
local q_add, st_set, seen_add, pre_add = {}, {}, {}, {}
local pre_n
local function set_state(b, s)
  mine[b] = s
  st_set[#st_set + 1] = b
  st_set[#st_set + 1] = s
end
local function keep(b)
  seen_add[#seen_add + 1] = until_ms
  seen_add[#seen_add + 1] = b
end
local function pre_size()
  if not pre_n then pre_n = redis.call('SCARD', pre) + #pre_add end
  return pre_n
end

for k, b in ipairs(buyers) do
  local s = mine[b] or stored[k]
  -- The draw of this call gave the pre-queue numbers: read what it wrote.
  if drawn and not mine[b] then s = redis.call('HGET', state, b) end
  local fresh = true
  if s then
    local kind = string.sub(s, 1, 1)
    if kind == 'R' then
      answer('R', '0', '', '0', '1', '0')
      fresh = false
    elseif kind == 'A' then
      local aseq, jti, exp = string.match(s, '^A:(%d+):([^:]+):(%d+)$')
      if tonumber(exp) > now then
        answer('A', aseq, jti, exp, '1', '0')
        fresh = false
      else
        redis.call('ZREM', active, b)
      end
    elseif kind == 'P' then
      keep(b)
      answer('P', '0', '', '0', '1', tostring(pre_size()))
      fresh = false
    elseif kind == 'W' then
      keep(b)
      answer('W', string.sub(s, 3), '', '0', '1', '0')
      fresh = false
    end
  elseif claims[k] > 0 and m[4] then
    -- The store lost this buyer (never forgets a state otherwise): their signed number
    -- puts them back where they were, ahead of everyone who joined after.
    q_add[#q_add + 1] = claims[k]
    q_add[#q_add + 1] = b
    set_state(b, 'W:' .. claims[k])
    handed_out(claims[k])
    keep(b)
    answer('W', tostring(claims[k]), '', '0', '1', '0')
    fresh = false
  end
  if fresh then
    -- The draw, once per call: `now` is the call's, and before the opening nothing it
    -- looks at changes; at or after it, no buyer of this call goes to the pre-queue.
    if not opened and not tried then
      tried = true
      opened = open_if_due()
      if opened then
        drawn = true
        seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
        seq0 = seq
      end
    end
    if not opened then
      -- The draw is due but lacks reserved numbers for the pre-queue.
      if now >= opens_at then
        answer('L', '0', '', '0', '0', '0')
      else
        local n = pre_size() + 1
        pre_n = n
        pre_add[#pre_add + 1] = b
        set_state(b, 'P')
        keep(b)
        answer('P', '0', '', '0', '0', tostring(n))
      end
    elseif seq + 1 > limit then
      answer('L', '0', '', '0', '0', '0')
    else
      seq = seq + 1
      q_add[#q_add + 1] = seq
      q_add[#q_add + 1] = b
      set_state(b, 'W:' .. seq)
      keep(b)
      answer('W', tostring(seq), '', '0', '0', '0')
    end
  end
end

if seq ~= seq0 then redis.call('HSET', meta, 'seq', seq) end
if #q_add > 0 then redis.call('ZADD', queue, unpack(q_add)) end
if #pre_add > 0 then redis.call('SADD', pre, unpack(pre_add)) end
if #st_set > 0 then redis.call('HSET', state, unpack(st_set)) end
if #seen_add > 0 then redis.call('ZADD', seen, unpack(seen_add)) end
return out
