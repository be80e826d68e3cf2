-- ARGV: 5 jti, 6 session id. Drops the claim if this session holds it.
local cur = redis.call('HGET', sess, ARGV[5])
if cur and string.sub(cur, 1, #ARGV[6] + 1) == ARGV[6] .. ':' then
  redis.call('HDEL', sess, ARGV[5])
end
return 1
