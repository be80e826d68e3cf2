-- ARGV: 5.. seats the database has sold. Marks any that Redis does not show sold.
local changed = {}
for i = 5, #ARGV do
  local s = ARGV[i]
  local v = redis.call('HGET', seats, s)
  if not v or string.sub(v, 1, 1) ~= 'S' then
    if v then
      unhold(string.sub(v, 3, 34), s)
      redis.call('ZREM', hexp, s)
    else
      add_free(-1)
    end
    redis.call('HSET', seats, s, 'S:?')
    changed[#changed + 1] = s
  end
end
if #changed > 0 then
  redis.call('HINCRBY', meta, 'nsold', #changed)
  publish_seats(changed, 's')
end
return #changed
