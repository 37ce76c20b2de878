"""A token bucket in Redis, shared by every replica: one Slack channel's 1 msg/s holds fleet-wide.

Same semantics as ``delivery.ratelimit.TokenBucket`` (``rate`` tokens per second, at most
``burst`` saved, ``hold`` for a provider's Retry-After), with the same methods made async. Each
call is one Lua script, so two replicas never take the last token both. Time is Redis's own
clock (``TIME``) unless a ``clock`` is injected (tests), so replicas' clock skew does not matter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from alertrouter.store.redis.keys import DEFAULT_PREFIX, RedisKeys

if TYPE_CHECKING:  # the redis package is optional; the caller hands us a client
    import redis.asyncio as aioredis

__all__ = ["RedisTokenBucket"]

# KEYS[1]: the bucket. ARGV: op (delay | take | hold), rate, burst, now ('' = Redis TIME),
# hold seconds. Returns the wait in seconds as a string (Lua numbers would come back truncated
# to integers); for "take", "0" means a token was taken.
_BUCKET = """
local key, op = KEYS[1], ARGV[1]
local rate, burst = tonumber(ARGV[2]), tonumber(ARGV[3])
local now
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[4])
end
local saved = redis.call('HMGET', key, 'tokens', 'updated', 'hold_until')
local tokens = math.min(burst, tonumber(saved[1]) or burst)
local updated = tonumber(saved[2]) or now
local hold_until = tonumber(saved[3]) or 0
-- Refill, but not during a hold (after a Retry-After: one message, then the rate); never
-- backwards, should injected clocks of two callers disagree.
local start = math.max(updated, hold_until)
if now > start then
  tokens = math.min(burst, tokens + (now - start) * rate)
end
if now > updated then updated = now end
local wait = math.max(0, hold_until - now)
if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
if op == 'take' and wait <= 0 then tokens = tokens - 1 end
if op == 'hold' then
  local hold_to = now + tonumber(ARGV[5])
  if hold_to > hold_until then
    hold_until = hold_to
    tokens = 1
  end
end
local function fmt(x) return string.format('%.17g', x) end
redis.call('HSET', key, 'tokens', fmt(tokens), 'updated', fmt(updated), 'hold_until',
  fmt(hold_until))
-- Gone once it would be full and unheld again (a missing bucket is a full one), plus a margin.
local idle = math.max(0, hold_until - now) + (burst - tokens) / rate
redis.call('PEXPIRE', key, math.ceil(idle * 1000) + 60000)
return fmt(wait)
"""


class RedisTokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up, shared under one ``name``."""

    def __init__(
        self,
        client: aioredis.Redis,
        name: str,
        rate: float,
        burst: int,
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.name = name
        self.rate = rate
        self.burst = burst
        self.key = RedisKeys(prefix).bucket(name)
        self._clock = clock
        self._sleep = sleep
        self._script = client.register_script(_BUCKET)

    def __repr__(self) -> str:
        return f"RedisTokenBucket({self.key!r}, rate={self.rate}, burst={self.burst})"

    async def _call(self, op: str, seconds: float = 0.0) -> float:
        now = "" if self._clock is None else repr(self._clock())
        args = [op, repr(float(self.rate)), str(self.burst), now, repr(float(seconds))]
        return float(await self._script(keys=[self.key], args=args))

    async def delay(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        return await self._call("delay")

    async def acquire(self) -> None:
        """Wait for a token and take it; the check and the take are one atomic step."""
        while (wait := await self._call("take")) > 0:
            await self._sleep(wait)

    async def hold(self, seconds: float) -> None:
        """Give no token for ``seconds`` (the provider said Retry-After), and drop saved ones."""
        await self._call("hold", seconds)
