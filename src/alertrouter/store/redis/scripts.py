"""The Lua scripts of the Redis store: each moves jobs between indexes in one atomic step.

Every script takes the key prefix as ARGV[1]; key names come from store.redis.keys.
"""

from __future__ import annotations

import json

from alertrouter.store.redis import keys as rk

__all__ = [
    "BURY",
    "COMPLETE",
    "FETCH",
    "HOLD_QUEUE",
    "RELEASE",
    "RELEASE_QUEUE",
    "REQUEUE",
    "RESCHEDULE",
]

# Shared by every script: ARGV[1] is the key prefix; names come from store.redis.keys.
PRELUDE = f"""
local P = ARGV[1]
local QUEUES = {json.dumps(rk.QUEUES)}
local READY, SCHEDULED = {json.dumps(rk.READY)}, {json.dumps(rk.SCHEDULED)}
local LEASED, CREATED = {json.dumps(rk.LEASED)}, {json.dumps(rk.CREATED)}
local DEAD = {json.dumps(rk.DEAD)}
local function kjob(id) return P .. {json.dumps(rk.JOB)} .. id end
local function kq(index, q) return P .. index .. q end
local function kstate(s) return P .. {json.dumps(rk.STATE_INDEX)} .. s end
-- Take a job out of the indexes of the state it is leaving.
local function unindex(id, q, state)
  if state == 'pending' then
    redis.call('ZREM', kq(READY, q), id)
    redis.call('ZREM', kq(SCHEDULED, q), id)
    redis.call('ZREM', kq(CREATED, q), id)
  elseif state == 'inflight' then
    redis.call('ZREM', kq(LEASED, q), id)
  elseif state == 'dead' then
    redis.call('ZREM', kq(DEAD, q), id)
  end
  redis.call('ZREM', kstate(state), id)
end
-- Every pending job enters through SCHEDULED (score due_at); fetch moves the due ones to READY.
local function make_pending(id, q)
  local job = kjob(id)
  local due_at, created_at = unpack(redis.call('HMGET', job, 'due_at', 'created_at'))
  redis.call('HSET', job, 'state', 'pending')
  redis.call('ZADD', kq(SCHEDULED, q), due_at, id)
  redis.call('ZADD', kq(CREATED, q), created_at, id)
  redis.call('ZADD', kstate('pending'), id, id)
end
"""

# ARGV: prefix, queue ('' for every queue), now, lease_until, limit. Returns HGETALL per job.
FETCH = (
    PRELUDE
    + """
local now, limit = tonumber(ARGV[3]), tonumber(ARGV[5])
local queues = {ARGV[2]}
if ARGV[2] == '' then queues = redis.call('SMEMBERS', P .. QUEUES) end
local picked = {}
for _, q in ipairs(queues) do
  local ready, scheduled = kq(READY, q), kq(SCHEDULED, q)
  -- A lease that ran out belongs to a replica that died or stalled: pending again.
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', kq(LEASED, q), '-inf', ARGV[3])) do
    unindex(id, q, 'inflight')
    make_pending(id, q)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', scheduled, '-inf', ARGV[3])) do
    redis.call('ZREM', scheduled, id)
    redis.call('ZADD', ready, redis.call('HGET', kjob(id), 'rank'), id)
  end
  -- A job waiting for its retry holds back every later job of its queue: a resolve never
  -- goes out before the trigger it follows, whichever replica or restart fetches.
  local blocker = math.huge
  for _, id in ipairs(redis.call('ZRANGE', scheduled, 0, -1)) do
    blocker = math.min(blocker, tonumber(id))
  end
  -- The first `limit` due jobs in rank order. One moved to READY by a replica whose clock is
  -- ahead of ours goes back to SCHEDULED, so no caller leases a job before its due time.
  local mine, offset = {}, 0
  while #mine < limit do
    local batch = redis.call('ZRANGE', ready, offset, offset + limit - 1, 'WITHSCORES')
    if #batch == 0 then break end
    for i = 1, #batch, 2 do
      local id = batch[i]
      local due_at = redis.call('HGET', kjob(id), 'due_at')
      if due_at and tonumber(due_at) <= now then
        offset = offset + 1
        if tonumber(id) < blocker then
          mine[#mine + 1] = {tonumber(batch[i + 1]), id, q}
        end
      else
        redis.call('ZREM', ready, id)
        if due_at then redis.call('ZADD', scheduled, due_at, id) end
        blocker = math.min(blocker, tonumber(id))
      end
    end
  end
  for _, pick in ipairs(mine) do
    if tonumber(pick[2]) < blocker then picked[#picked + 1] = pick end
  end
end
table.sort(picked, function(a, b) return a[1] < b[1] end)
local leased = {}
for i = 1, math.min(limit, #picked) do
  local id, q = picked[i][2], picked[i][3]
  unindex(id, q, 'pending')
  redis.call('ZADD', kq(LEASED, q), ARGV[4], id)
  redis.call('ZADD', kstate('inflight'), id, id)
  redis.call('HSET', kjob(id), 'state', 'inflight')
  redis.call('HINCRBY', kjob(id), 'attempts', 1)
  leased[#leased + 1] = redis.call('HGETALL', kjob(id))
end
return leased
"""
)

# ARGV: prefix, job ids... Leased ones go back to pending, the attempt not counted.
RELEASE = (
    PRELUDE
    + """
for i = 2, #ARGV do
  local id = ARGV[i]
  local state, q, attempts = unpack(redis.call('HMGET', kjob(id), 'state', 'queue', 'attempts'))
  if state == 'inflight' then
    unindex(id, q, state)
    if tonumber(attempts) > 0 then redis.call('HINCRBY', kjob(id), 'attempts', -1) end
    make_pending(id, q)
  end
end
return 0
"""
)

# ARGV: prefix, id, due_at, error. Only a pending or leased job is rescheduled.
RESCHEDULE = (
    PRELUDE
    + """
local id = ARGV[2]
local state, q = unpack(redis.call('HMGET', kjob(id), 'state', 'queue'))
if state ~= 'inflight' and state ~= 'pending' then return 0 end
unindex(id, q, state)
redis.call('HSET', kjob(id), 'due_at', ARGV[3], 'last_error', ARGV[4])
make_pending(id, q)
return 1
"""
)

# ARGV: prefix, now, done TTL in ms, receipt JSON ('' for none), job ids... Returns how many
# were found and marked done.
COMPLETE = (
    PRELUDE
    + """
local done = 0
for i = 5, #ARGV do
  local id = ARGV[i]
  local state, q = unpack(redis.call('HMGET', kjob(id), 'state', 'queue'))
  if state then
    unindex(id, q, state)
    redis.call('HSET', kjob(id), 'state', 'done', 'finished_at', ARGV[2])
    if ARGV[4] == '' then
      redis.call('HDEL', kjob(id), 'receipt')
    else
      redis.call('HSET', kjob(id), 'receipt', ARGV[4])
    end
    redis.call('PEXPIRE', kjob(id), ARGV[3])
    redis.call('ZADD', kstate('done'), id, id)
    done = done + 1
  end
end
-- Forget listing entries of done jobs that expired: ten per completion keeps up with them.
if done > 0 then
  for _, old in ipairs(redis.call('ZRANGE', kstate('done'), 0, 10 * done - 1)) do
    if redis.call('EXISTS', kjob(old)) == 0 then redis.call('ZREM', kstate('done'), old) end
  end
end
return done
"""
)

# ARGV: prefix, id, error, now. Run inside dead_letter's MULTI, next to the claim writes.
BURY = (
    PRELUDE
    + """
local id = ARGV[2]
local state, q = unpack(redis.call('HMGET', kjob(id), 'state', 'queue'))
if not state then return 0 end
unindex(id, q, state)
redis.call('HSET', kjob(id), 'state', 'dead', 'last_error', ARGV[3], 'finished_at', ARGV[4])
redis.call('PERSIST', kjob(id))
redis.call('ZADD', kq(DEAD, q), id, id)
redis.call('ZADD', kstate('dead'), id, id)
return 1
"""
)

# ARGV: prefix, id, now. Dead -> pending, due now; 1 if it was dead.
REQUEUE = (
    PRELUDE
    + """
local id = ARGV[2]
local state, q = unpack(redis.call('HMGET', kjob(id), 'state', 'queue'))
if state ~= 'dead' then return 0 end
unindex(id, q, state)
redis.call('HSET', kjob(id), 'due_at', ARGV[3], 'attempts', 0)
redis.call('HDEL', kjob(id), 'finished_at')
make_pending(id, q)
return 1
"""
)


# KEYS[1] worker key, ARGV owner, ttl ms: take the queue if free, renew if ours.
HOLD_QUEUE = """
local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
RELEASE_QUEUE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
