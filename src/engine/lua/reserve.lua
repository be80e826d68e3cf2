-- ARGV[5]: new queue-number limit (already written to the database). When the event has
-- no limit yet (a new event, or a store that lost its data), first restores the counters
-- from the database's checkpoint: ARGV[6] highest number that may have been handed out,
-- 7 head, 8 admitted total, 9 opened ('1'/'0'), 10 token-id salt, 11 the last number
-- seen handed out at the checkpoint (numbers above it, up to ARGV[6], may never have been
-- handed out: positions skip them). Returns 1 when it restored, else 0.
local restored = 0
if redis.call('HEXISTS', meta, 'seq_limit') == 0 then
  local function at_least(field, v)
    local cur = tonumber(redis.call('HGET', meta, field) or '0')
    if tonumber(v) > cur then redis.call('HSET', meta, field, v) end
  end
  at_least('seq', ARGV[6])
  at_least('head', ARGV[7])
  at_least('admitted_total', ARGV[8])
  if ARGV[9] == '1' then redis.call('HSET', meta, 'opened', '1') end
  redis.call('HSET', meta, 'salt', ARGV[10], 'epoch', tostring(seed))
  -- A line existed before the loss: the next admission step waits one presence lease,
  -- so every connected buyer is put back at their number before anyone is let in.
  if tonumber(ARGV[6]) > 0 then redis.call('HSET', meta, 'restored', '1') end
  local issued = tonumber(ARGV[11]) or 0
  if issued < tonumber(ARGV[6]) then
    redis.call('HSET', meta, 'gap_lo', math.max(issued, tonumber(ARGV[7])), 'gap_hi', ARGV[6])
  end
  bus_config()
  restored = 1
end
local cur = tonumber(redis.call('HGET', meta, 'seq_limit') or '0')
if tonumber(ARGV[5]) > cur then redis.call('HSET', meta, 'seq_limit', ARGV[5]) end
return restored
