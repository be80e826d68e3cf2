-- "Best available". ARGV: 5 buyer, 6 hold ms, 7 most seats per buyer and performance,
-- 8 block size n, then blocks in order of preference, each n seat ids then four
-- neighbours (left, left of left, right, right of right; -1 past the row's end). Holds
-- the first block whose seats are all free and that leaves no single free seat alone
-- between it and a taken seat or the row's end. Returns {'ok', expiry, seat, …} or
-- {refusal, detail}.
local b, hold_ms, max, n = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local nseats = redis.call('HGET', meta, 'nseats')
if not nseats then return {'not_ready'} end
nseats = tonumber(nseats)
if n < 1 or #ARGV < 8 + n + 4 then return {'no_block'} end
local function free(x)
  return x ~= '-1' and redis.call('HEXISTS', seats, x) == 0
end
local function taken_or_end(x)
  return x == '-1' or redis.call('HEXISTS', seats, x) == 1
end
-- The limit, counted in the performance of the first block.
local perf = perf_of(ARGV[9])
local mine = split(redis.call('HGET', bhold, b))
local here = 0
for _, s in ipairs(mine) do
  if perf_of(s) == perf then here = here + 1 end
end
if here + tonumber(redis.call('HGET', bsold, b .. ':' .. perf) or '0') + n > max then
  return {'too_many_seats', tostring(max)}
end
local i = 9
while i + n + 3 <= #ARGV do
  local list = {}
  for k = 0, n - 1 do list[#list + 1] = ARGV[i + k] end
  local l1, l2, r1, r2 = ARGV[i + n], ARGV[i + n + 1], ARGV[i + n + 2], ARGV[i + n + 3]
  i = i + n + 4
  local ok = true
  for _, s in ipairs(list) do
    local x = tonumber(s)
    if not x or x < 0 or x >= nseats or perf_of(s) ~= perf or not free(s) then
      ok = false
      break
    end
  end
  if ok and free(l1) and taken_or_end(l2) then ok = false end
  if ok and free(r1) and taken_or_end(r2) then ok = false end
  if ok then
    local exp = string.format('%d', now + hold_ms)
    for _, s in ipairs(list) do
      redis.call('HSET', seats, s, 'H:' .. b .. ':' .. exp)
      redis.call('ZADD', hexp, exp, s)
      mine[#mine + 1] = s
    end
    redis.call('HSET', bhold, b, table.concat(mine, ','))
    add_free(-#list)
    publish_seats(list, 'held')
    local out = {'ok', exp}
    for _, s in ipairs(list) do out[#out + 1] = s end
    return out
  end
end
return {'no_block'}
