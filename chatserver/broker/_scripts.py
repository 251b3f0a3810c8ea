"""Lua scripts that make claim, release and presence atomic in Redis.

They are sent with EVAL (Redis caches the compiled script) so they can ride in
the same pipeline as everything else, without EVALSHA's extra round trip to
check the script cache.
"""

from __future__ import annotations

# KEYS[1] claim key; ARGV[1] owner; ARGV[2] ttl in ms, or "" for no expiry.
CLAIM = """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
"""

# KEYS[1] claim key; ARGV[1] owner.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Shared by the presence scripts: server time in ms (one clock for all
# processes), then forget members whose expiry has passed.
# KEYS[1] expiry zset, KEYS[2] names zset, KEYS[3] status hash.
_PURGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
for i = 1, #dead, 500 do
  local chunk = {unpack(dead, i, math.min(i + 499, #dead))}
  redis.call('ZREM', KEYS[1], unpack(chunk))
  redis.call('ZREM', KEYS[2], unpack(chunk))
  redis.call('HDEL', KEYS[3], unpack(chunk))
end
"""

# ARGV[1] member, ARGV[2] status, ARGV[3] ttl in ms.
SET_PRESENCE = (
    _PURGE
    + """
redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[3])), ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
"""
)

# ARGV[1] prefix. Returns a flat list: member, status, member, status, ...
# Members sit in a lexically ordered zset, so a prefix is a range query
# (O(log n + matches)) rather than a scan of every member or key.
PRESENCE = (
    _PURGE
    + """
local names
if ARGV[1] == '' then
  names = redis.call('ZRANGEBYLEX', KEYS[2], '-', '+')
else
  names = redis.call('ZRANGEBYLEX', KEYS[2], '[' .. ARGV[1], '(' .. ARGV[1] .. '\\255')
end
local out = {}
for _, name in ipairs(names) do
  local status = redis.call('HGET', KEYS[3], name)
  if status then
    out[#out + 1] = name
    out[#out + 1] = status
  end
end
return out
"""
)
