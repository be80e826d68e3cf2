-- ARGV: 5.. pairs of (seat, buyer) the database no longer has sold (a refund; buyer ''
-- when unknown). Frees any that Redis shows sold to that buyer, and gives each back to
-- the buyer's limit. A seat that is not sold, or sold to someone else since, is left
-- alone.
if redis.call('HEXISTS', meta, 'nseats') == 0 then return 0 end
local changed = {}
for i = 5, #ARGV, 2 do
  local s, buyer = ARGV[i], ARGV[i + 1]
  local v = redis.call('HGET', seats, s)
  local owner = v and string.sub(v, 3)
  -- Only a seat sold to this buyer (any buyer, when none is named): one sold again to
  -- someone else since stays theirs.
  if v and string.sub(v, 1, 1) == 'S' and (buyer == '' or owner == buyer) then
    redis.call('HDEL', seats, s)
    local k = sold_key(owner, s)
    if redis.call('HINCRBY', bsold, k, -1) <= 0 then redis.call('HDEL', bsold, k) end
    changed[#changed + 1] = s
  end
end
if #changed > 0 then
  redis.call('HINCRBY', meta, 'nsold', -#changed)
  add_free(#changed)
  publish_seats(changed, 'free')
end
return #changed
