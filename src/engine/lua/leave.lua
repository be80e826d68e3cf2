-- ARGV[5]: buyer, ARGV[6]: new state ('G' gave up, 'R' revoked), ARGV[7]: '1' to act on
-- any known buyer (revoke), '0' only on waiting / pre-queue buyers (leave).
-- Returns -1 when nothing was done, else the departed seq (0 when not waiting).
local b, newstate, any = ARGV[5], ARGV[6], ARGV[7] == '1'
local s = redis.call('HGET', state, b)
if not s then
  if not any then return -1 end
else
  local kind = string.sub(s, 1, 1)
  if not any and kind ~= 'W' and kind ~= 'P' then return -1 end
end
local seq = depart(b, newstate)
-- A buyer who left on purpose is named, so their other tabs close too.
local d = seq and tostring(seq) or ''
if newstate == 'G' then
  bus_departed(d, b)
elseif seq then
  bus_departed(d, nil)
end
if newstate == 'R' then
  -- A revoked buyer's seat holds go back at once (a booking in progress finishes or
  -- fails on its own).
  local freed = {}
  for _, seat in ipairs(split(redis.call('HGET', bhold, b))) do
    local v = redis.call('HGET', seats, seat)
    if v and string.sub(v, 1, 2 + #b) == 'H:' .. b then
      redis.call('HDEL', seats, seat)
      redis.call('ZREM', hexp, seat)
      unhold(b, seat)
      freed[#freed + 1] = seat
    end
  end
  if #freed > 0 then
    add_free(#freed)
    publish_seats(freed, 'free')
  end
  bus_revoked(b)
end
if not s then return -1 end
return seq or 0
