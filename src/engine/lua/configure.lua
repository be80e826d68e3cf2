-- ARGV[5..10]: rate, max_active, session_ms, grace_ms, opens_at, paused; ARGV[11]: '1' to
-- write only when the event has no settings yet.
if ARGV[11] == '1' and redis.call('HEXISTS', meta, 'rate') == 1 then return 0 end
redis.call('HSET', meta, 'rate', ARGV[5], 'max_active', ARGV[6], 'session_ms', ARGV[7],
  'grace_ms', ARGV[8], 'opens_at', ARGV[9], 'paused', ARGV[10])
return 1
