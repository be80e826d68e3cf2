-- ARGV[5]: presence lease (ms, 0 when the buyers' last socket just closed), then pairs
-- of (buyer, queue number or '0'). Keeps each buyer's place until now + grace + lease.
-- A buyer the store lost (no state at all: Redis restarted empty) is put back at the
-- number this instance knows, or in the pre-queue before the draw.
-- The states are read in one HMGET and the new expiries written in one ZADD: per buyer,
-- no command of its own unless it has to be put back.
local lease = tonumber(ARGV[5]) or 0
if redis.call('HEXISTS', meta, 'seq_limit') == 0 then return 0 end
local until_ms = keep_until(lease)
local opened = redis.call('HGET', meta, 'opened') == '1'
local restored = 0
local buyers = {}
for i = 6, #ARGV - 1, 2 do buyers[#buyers + 1] = ARGV[i] end
if #buyers == 0 then return 0 end
local states = redis.call('HMGET', state, unpack(buyers))
local keep, put = {}, {} -- put: states this call wrote
for k, b in ipairs(buyers) do
  local s = put[b] or states[k]
  if not s then
    local seq = tonumber(ARGV[5 + 2 * k]) or 0
    if seq > 0 then
      redis.call('ZADD', queue, seq, b)
      redis.call('HSET', state, b, 'W:' .. seq)
      handed_out(seq)
      s = 'W'
      put[b] = s
      restored = restored + 1
    elseif not opened then
      redis.call('SADD', pre, b)
      redis.call('HSET', state, b, 'P')
      s = 'P'
      put[b] = s
      restored = restored + 1
    end
  end
  if s then
    local kind = string.sub(s, 1, 1)
    if kind == 'W' or kind == 'P' then
      keep[#keep + 1] = until_ms
      keep[#keep + 1] = b
    end
  end
end
if #keep > 0 then redis.call('ZADD', seen, unpack(keep)) end
return restored
