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
local d = seq and ('[' .. seq .. ']') or '[]'
if newstate == 'G' then
  redis.call('PUBLISH', chan, '{"t":"dep","e":' .. ev .. ',"d":' .. d .. ',"b":"' .. b .. '"}')
elseif seq then
  redis.call('PUBLISH', chan, '{"t":"dep","e":' .. ev .. ',"d":' .. d .. '}')
end
if newstate == 'R' then
  redis.call('PUBLISH', chan, '{"t":"rev","e":' .. ev .. ',"b":"' .. b .. '"}')
end
if not s then return -1 end
return seq or 0
