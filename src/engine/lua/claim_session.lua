-- ARGV: 5 buyer, 6 jti, 7 session id, 8 stale ms, 9 queue number to restore ('' for none),
-- 10 session end ms to restore. Returns ok, in_use, ended, revoked, unknown or not_ready.
-- With a restore, a buyer this store knows nothing about (it lost its data) is admitted
-- again as the caller's verified token says, counting toward the cap; a buyer it knows
-- (revoked, ended, admitted again) keeps that state.
if redis.call('HEXISTS', meta, 'nseats') == 0 then return 'not_ready' end
local b, jti, sid, stale = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local s = redis.call('HGET', state, b)
if s == 'R' then return 'revoked' end
if not s then
  if ARGV[9] == '' then return 'unknown' end
  if tonumber(ARGV[10]) <= now then return 'ended' end
  s = 'A:' .. ARGV[9] .. ':' .. jti .. ':' .. ARGV[10]
  redis.call('HSET', state, b, s)
  redis.call('ZADD', active, ARGV[10], b)
end
if string.sub(s, 1, 1) ~= 'A' then return 'ended' end
local _, sj, exp = string.match(s, '^A:(%d+):([^:]+):(%d+)$')
if sj ~= jti or tonumber(exp) <= now then return 'ended' end
local cur = redis.call('HGET', sess, jti)
if cur then
  local csid, ts = string.match(cur, '^([^:]+):(%d+)$')
  if csid ~= sid and now - tonumber(ts) < stale then return 'in_use' end
end
redis.call('HSET', sess, jti, sid .. ':' .. string.format('%d', now))
return 'ok'
