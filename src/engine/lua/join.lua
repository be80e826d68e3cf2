-- ARGV[5]: buyer, ARGV[6]: queue number the buyer's credential carries ('0': none),
-- ARGV[7]: presence lease (ms). Returns {kind, seq, jti, exp, resumed, pre-queue size};
-- kind 'U': not configured, 'L': no queue number reserved (the caller fixes and retries).
local b, claim, lease = ARGV[5], tonumber(ARGV[6]) or 0, tonumber(ARGV[7]) or 0
if redis.call('HEXISTS', meta, 'rate') == 0 then return {'U', '0', '', '0', '0', '0'} end
local s = redis.call('HGET', state, b)
if s then
  local kind = string.sub(s, 1, 1)
  if kind == 'R' then return {'R', '0', '', '0', '1', '0'} end
  if kind == 'A' then
    local seq, jti, exp = string.match(s, '^A:(%d+):([^:]+):(%d+)$')
    if tonumber(exp) > now then return {'A', seq, jti, exp, '1', '0'} end
    redis.call('ZREM', active, b)
  elseif kind == 'P' then
    redis.call('ZADD', seen, keep_until(lease), b)
    return {'P', '0', '', '0', '1', tostring(redis.call('SCARD', pre))}
  elseif kind == 'W' then
    redis.call('ZADD', seen, keep_until(lease), b)
    return {'W', string.sub(s, 3), '', '0', '1', '0'}
  end
elseif claim > 0 and redis.call('HEXISTS', meta, 'seq_limit') == 1 then
  -- The store lost this buyer (never forgets a state otherwise): their signed number
  -- puts them back where they were, ahead of everyone who joined after.
  redis.call('ZADD', queue, claim, b)
  redis.call('HSET', state, b, 'W:' .. claim)
  handed_out(claim)
  redis.call('ZADD', seen, keep_until(lease), b)
  return {'W', tostring(claim), '', '0', '1', '0'}
end
if not open_if_due() then
  -- The draw is due but lacks reserved numbers for the pre-queue.
  if now >= tonumber(redis.call('HGET', meta, 'opens_at') or '0') then
    return {'L', '0', '', '0', '0', '0'}
  end
  redis.call('SADD', pre, b)
  redis.call('HSET', state, b, 'P')
  redis.call('ZADD', seen, keep_until(lease), b)
  return {'P', '0', '', '0', '0', tostring(redis.call('SCARD', pre))}
end
local seq = tonumber(redis.call('HGET', meta, 'seq') or '0') + 1
if seq > tonumber(redis.call('HGET', meta, 'seq_limit') or '0') then
  return {'L', '0', '', '0', '0', '0'}
end
redis.call('HSET', meta, 'seq', seq)
redis.call('ZADD', queue, seq, b)
redis.call('HSET', state, b, 'W:' .. seq)
redis.call('ZADD', seen, keep_until(lease), b)
return {'W', tostring(seq), '', '0', '0', '0'}
