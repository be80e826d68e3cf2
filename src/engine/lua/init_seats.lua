-- ARGV: 5 number of seats. Sets the seat count once per event (kept across restarts).
if redis.call('HEXISTS', meta, 'nseats') == 1 then return 0 end
redis.call('HSET', meta, 'nseats', ARGV[5], 'free', ARGV[5], 'nsold', 0)
return 1
