-- ARGV[5..10]: rate, max_active, session_ms, grace_ms, opens_at, paused; ARGV[11]: '1' to
-- write only when the event has no settings yet; ARGV[12]: ended ('1': the sale has ended).
-- An ended sale stays ended and paused: a stale configure (a patch that raced the end)
-- cannot reopen it.
if ARGV[11] == '1' and redis.call('HEXISTS', meta, 'rate') == 1 then return 0 end
local ended = ARGV[12]
if redis.call('HGET', meta, 'ended') == '1' then ended = '1' end
local paused = ARGV[10]
if ended == '1' then paused = '1' end
redis.call('HSET', meta, 'rate', ARGV[5], 'max_active', ARGV[6], 'session_ms', ARGV[7],
  'grace_ms', ARGV[8], 'opens_at', ARGV[9], 'paused', paused, 'ended', ended)
return 1
