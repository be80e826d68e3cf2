-- ARGV: 5 number of seats (all performances), 6 seats per performance, 7 how many sold
-- pairs follow, then (seat, buyer) pairs the
-- database has sold, then (seat, buyer, expiry ms) triples of its unexpired holds.
-- Only when the event has no seats here yet (a new event, or a Redis that lost its data):
-- sets the seat count and puts the sales and holds back in the same step, so no request
-- can take a held seat in between (every seat script answers 'not_ready' until then).
-- Returns 1 when it set the seats up, 0 when they were there already.
if redis.call('HEXISTS', meta, 'nseats') == 1 then return 0 end
local nseats, nsold = tonumber(ARGV[5]), tonumber(ARGV[7])
redis.call('HSET', meta, 'psize', ARGV[6])
local sold, held = {}, {}
local last_sold = 7 + 2 * nsold
for i = 8, last_sold, 2 do
  local s, buyer = ARGV[i], ARGV[i + 1]
  if tonumber(s) < nseats and redis.call('HSETNX', seats, s, 'S:' .. buyer) == 1 then
    redis.call('HINCRBY', bsold, sold_key(buyer, s), 1)
    sold[#sold + 1] = s
  end
end
for i = last_sold + 1, #ARGV, 3 do
  local s, buyer, exp = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if tonumber(s) < nseats and tonumber(exp) > now
    and redis.call('HSETNX', seats, s, 'H:' .. buyer .. ':' .. exp) == 1 then
    redis.call('ZADD', hexp, exp, s)
    local mine = split(redis.call('HGET', bhold, buyer))
    mine[#mine + 1] = s
    redis.call('HSET', bhold, buyer, table.concat(mine, ','))
    held[#held + 1] = s
  end
end
redis.call('HSET', meta, 'nseats', nseats, 'free', nseats - redis.call('HLEN', seats))
redis.call('HINCRBY', meta, 'nsold', #sold)
add_free(0)
publish_seats(held, 'held')
publish_seats(sold, 'sold')
return 1
