-- ARGV: 5 most seats to free in one call. Frees holds (and stalled bookings) that are due.
local due = redis.call('ZRANGEBYSCORE', hexp, '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
local freed = {}
for _, s in ipairs(due) do
  redis.call('ZREM', hexp, s)
  local v = redis.call('HGET', seats, s)
  if v and (string.sub(v, 1, 1) == 'H' or string.sub(v, 1, 1) == 'B') then
    redis.call('HDEL', seats, s)
    unhold(string.sub(v, 3, 34), s)
    freed[#freed + 1] = s
  end
end
if #freed > 0 then
  add_free(#freed)
  publish_seats(freed, 'free')
end
return freed
