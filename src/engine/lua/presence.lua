-- ARGV[5]: presence lease (ms, 0 when the buyers' last socket just closed), then pairs
-- of (buyer, queue number or '0'). Keeps each buyer's place until now + grace + lease.
-- A buyer the store lost (no state at all: Redis restarted empty) is put back at the
-- number this instance knows, or in the pre-queue before the draw.
local lease = tonumber(ARGV[5]) or 0
if redis.call('HEXISTS', meta, 'seq_limit') == 0 then return 0 end
local until_ms = keep_until(lease)
local opened = redis.call('HGET', meta, 'opened') == '1'
local restored = 0
for i = 6, #ARGV - 1, 2 do
  local b, seq = ARGV[i], tonumber(ARGV[i + 1]) or 0
  local s = redis.call('HGET', state, b)
  if not s then
    if seq > 0 then
      redis.call('ZADD', queue, seq, b)
      redis.call('HSET', state, b, 'W:' .. seq)
      handed_out(seq)
      s = 'W'
      restored = restored + 1
    elseif not opened then
      redis.call('SADD', pre, b)
      redis.call('HSET', state, b, 'P')
      s = 'P'
      restored = restored + 1
    end
  end
  if s then
    local kind = string.sub(s, 1, 1)
    if kind == 'W' or kind == 'P' then redis.call('ZADD', seen, until_ms, b) end
  end
end
return restored
