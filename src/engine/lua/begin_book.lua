-- ARGV: 5 buyer, 6 booking window ms, 7 performance. Every hold of the buyer in that
-- performance must still be valid; the seats are then
-- kept from expiring for the window while the database writes.
-- A booking of this buyer already in progress (its outcome unknown) is entered again.
-- Returns {'ok', 'seat,seat'} or {refusal}.
if redis.call('HEXISTS', meta, 'nseats') == 0 then return {'not_ready'} end
local b, window, perf = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local list = {}
for _, s in ipairs(split(redis.call('HGET', bhold, b))) do
  if perf_of(s) == perf then list[#list + 1] = s end
end
if #list == 0 then
  if tonumber(redis.call('HGET', bsold, b .. ':' .. perf) or '0') > 0 then return {'already_booked'} end
  return {'no_hold'}
end
local cur = redis.call('HMGET', seats, unpack(list))
for i = 1, #list do
  local kind = cur[i] and string.sub(cur[i], 1, 1)
  if kind == 'H' then
    if tonumber(string.sub(cur[i], 36)) <= now then return {'hold_expired'} end
  elseif kind ~= 'B' or string.sub(cur[i], 3, 34) ~= b then
    return {'no_hold'}
  end
end
local deadline = now + window
for i, s in ipairs(list) do
  redis.call('HSET', seats, s, 'B' .. string.sub(cur[i], 2))
  redis.call('ZADD', hexp, deadline, s)
end
return {'ok', table.concat(list, ',')}
