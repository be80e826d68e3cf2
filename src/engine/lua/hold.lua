-- ARGV: 5 buyer, 6 hold ms, 7 most seats per buyer and performance, 8.. seat ids
-- (distinct, all of one performance).
-- All or nothing. Returns {'ok', expiry} or {refusal, detail}.
local b, hold_ms, max = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local m = redis.call('HMGET', meta, 'nseats', 'psize')
if not m[1] then return {'not_ready'} end
local nseats = tonumber(m[1])
-- perf_of's seats per performance, from the same read (as perf_of reads it).
psize_cache = tonumber(m[2] or m[1]) or 1
if psize_cache < 1 then psize_cache = 1 end
local list = {}
local perf = nil
for i = 8, #ARGV do
  local s = tonumber(ARGV[i])
  if not s or s < 0 or s >= nseats then return {'unknown_seat', ARGV[i]} end
  perf = perf or perf_of(s)
  if perf_of(s) ~= perf then return {'unknown_seat', ARGV[i]} end
  list[#list + 1] = ARGV[i]
end
local mine = split(redis.call('HGET', bhold, b))
local here = 0
for _, s in ipairs(mine) do
  if perf_of(s) == perf then here = here + 1 end
end
if perf and here + tonumber(redis.call('HGET', bsold, b .. ':' .. perf) or '0') + #list > max then
  return {'too_many_seats', tostring(max)}
end
local cur = redis.call('HMGET', seats, unpack(list))
for i = 1, #list do
  if cur[i] then return {'seat_taken', list[i]} end
end
local exp = string.format('%d', now + hold_ms)
-- One HSET and one ZADD for every seat of the hold.
local held, expiry = {}, {}
for _, s in ipairs(list) do
  held[#held + 1] = s
  held[#held + 1] = 'H:' .. b .. ':' .. exp
  expiry[#expiry + 1] = exp
  expiry[#expiry + 1] = s
  mine[#mine + 1] = s
end
redis.call('HSET', seats, unpack(held))
redis.call('ZADD', hexp, unpack(expiry))
redis.call('HSET', bhold, b, table.concat(mine, ','))
add_free(-#list)
publish_seats(list, 'held')
return {'ok', exp}
