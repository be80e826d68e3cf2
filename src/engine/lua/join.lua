-- ARGV[5]: buyer. Returns {kind, seq, jti, exp, resumed}.
local b = ARGV[5]
local s = redis.call('HGET', state, b)
if s then
  local kind = string.sub(s, 1, 1)
  if kind == 'R' then return {'R', '0', '', '0', '1'} end
  if kind == 'A' then
    local seq, jti, exp = string.match(s, '^A:(%d+):([^:]+):(%d+)$')
    if tonumber(exp) > now then return {'A', seq, jti, exp, '1'} end
    redis.call('ZREM', active, b)
  elseif kind == 'P' then
    redis.call('ZADD', seen, now, b)
    return {'P', '0', '', '0', '1'}
  elseif kind == 'W' then
    redis.call('ZADD', seen, now, b)
    return {'W', string.sub(s, 3), '', '0', '1'}
  end
end
redis.call('ZADD', seen, now, b)
if not open_if_due() then
  redis.call('SADD', pre, b)
  redis.call('HSET', state, b, 'P')
  return {'P', '0', '', '0', '0'}
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('ZADD', queue, seq, b)
redis.call('HSET', state, b, 'W:' .. seq)
return {'W', tostring(seq), '', '0', '0'}
