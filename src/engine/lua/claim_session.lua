-- ARGV: 5 buyer, 6 jti, 7 session id, 8 stale ms. Returns ok, in_use, ended or revoked.
local b, jti, sid, stale = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local s = redis.call('HGET', state, b)
if s == 'R' then return 'revoked' end
if not s or string.sub(s, 1, 1) ~= 'A' then return 'ended' end
local _, sj, exp = string.match(s, '^A:(%d+):([^:]+):(%d+)$')
if sj ~= jti or tonumber(exp) <= now then return 'ended' end
local cur = redis.call('HGET', sess, jti)
if cur then
  local csid, ts = string.match(cur, '^([^:]+):(%d+)$')
  if csid ~= sid and now - tonumber(ts) < stale then return 'in_use' end
end
redis.call('HSET', sess, jti, sid .. ':' .. string.format('%d', now))
return 'ok'
