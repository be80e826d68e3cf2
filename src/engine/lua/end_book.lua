-- ARGV: 5 buyer, 6 '1' sold / '0' failed, 7.. seats. Sold: the seats turn sold and the
-- buyer's entry session ends (freeing an admission slot). Failed: back to held.
-- Seats already sold (the reconciliation got there first) count once.
local b, sold = ARGV[5], ARGV[6] == '1'
local list = {}
for i = 7, #ARGV do list[#list + 1] = ARGV[i] end
local newly = 0
for _, s in ipairs(list) do
  local v = redis.call('HGET', seats, s)
  if sold then
    if v and (string.sub(v, 1, 1) == 'H' or string.sub(v, 1, 1) == 'B') then
      unhold(string.sub(v, 3, 34), s)
    elseif not v then
      add_free(-1)
    end
    if not (v and string.sub(v, 1, 1) == 'S') then
      redis.call('HSET', seats, s, 'S:' .. b)
      redis.call('ZREM', hexp, s)
      redis.call('HINCRBY', bsold, sold_key(b, s), 1)
      newly = newly + 1
    end
  elseif v and string.sub(v, 1, 2 + #b) == 'B:' .. b then
    redis.call('HSET', seats, s, 'H' .. string.sub(v, 2))
    redis.call('ZADD', hexp, string.sub(v, 36), s)
  end
end
if sold then
  redis.call('HINCRBY', meta, 'nsold', newly)
  redis.call('ZREM', active, b)
  local st = redis.call('HGET', state, b)
  if st and string.sub(st, 1, 1) == 'A' then redis.call('HSET', state, b, 'G') end
  publish_seats(list, 'sold')
end
return 1
