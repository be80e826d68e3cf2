-- ARGV: 5 buyer, 6.. seat ids. All or nothing. Returns {'ok'} or {'not_your_seat', seat}.
if redis.call('HEXISTS', meta, 'nseats') == 0 then return {'not_ready'} end
local b = ARGV[5]
local list = {}
for i = 6, #ARGV do list[#list + 1] = ARGV[i] end
local cur = redis.call('HMGET', seats, unpack(list))
for i = 1, #list do
  if (not cur[i]) or string.sub(cur[i], 1, 2 + #b) ~= 'H:' .. b then
    return {'not_your_seat', list[i]}
  end
end
for _, s in ipairs(list) do
  redis.call('HDEL', seats, s)
  redis.call('ZREM', hexp, s)
  unhold(b, s)
end
add_free(#list)
publish_seats(list, 'free')
return {'ok'}
