-- ARGV: 5.. pairs of (seat, buyer) the database has sold. Marks any that Redis does not
-- show sold, and counts them toward their buyer's limit.
if redis.call('HEXISTS', meta, 'nseats') == 0 then return 0 end
local changed = {}
for i = 5, #ARGV, 2 do
  local s, buyer = ARGV[i], ARGV[i + 1]
  local v = redis.call('HGET', seats, s)
  if not v or string.sub(v, 1, 1) ~= 'S' then
    if v then
      unhold(string.sub(v, 3, 34), s)
      redis.call('ZREM', hexp, s)
    else
      add_free(-1)
    end
    redis.call('HSET', seats, s, 'S:' .. buyer)
    redis.call('HINCRBY', bsold, sold_key(buyer, s), 1)
    changed[#changed + 1] = s
  end
end
if #changed > 0 then
  redis.call('HINCRBY', meta, 'nsold', #changed)
  publish_seats(changed, 'sold')
end
return #changed
