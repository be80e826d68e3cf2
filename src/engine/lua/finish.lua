-- ARGV[5]: buyer. Ends an admitted buyer's session, freeing the slot.
local b = ARGV[5]
local s = redis.call('HGET', state, b)
if s and string.sub(s, 1, 1) == 'A' then
  redis.call('ZREM', active, b)
  redis.call('HSET', state, b, 'G')
  return 1
end
return 0
