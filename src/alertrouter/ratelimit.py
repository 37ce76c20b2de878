"""Token bucket per integration, with a hold for a provider's ``Retry-After``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["RateLimiter", "TokenBucket"]


class RateLimiter(Protocol):
    """What a worker needs of a rate limit: this process's TokenBucket or a shared one."""

    async def delay(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        ...

    async def acquire(self) -> None:
        """Wait for a token and take it."""
        ...

    async def hold(self, seconds: float) -> None:
        """Give no token for ``seconds``."""
        ...


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per message."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._hold_until = 0.0

    def _refill(self, now: float) -> None:
        # Nothing accrues during a hold: after a Retry-After the provider gets one message,
        # then the rate, not a burst saved up while it asked us to wait.
        start = max(self._updated, self._hold_until)
        if now > start:
            self._tokens = min(self.burst, self._tokens + (now - start) * self.rate)
        self._updated = max(self._updated, now)

    async def delay(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        return self._delay()

    def _delay(self) -> float:
        now = self._clock()
        self._refill(now)
        wait = max(0.0, self._hold_until - now)
        if self._tokens < 1:
            wait = max(wait, (1 - self._tokens) / self.rate)
        return wait

    async def acquire(self) -> None:
        """Wait for a token and take it."""
        while (wait := self._delay()) > 0:
            await self._sleep(wait)
        self._tokens -= 1

    async def hold(self, seconds: float) -> None:
        """Give no token for ``seconds`` (the provider said Retry-After); then exactly one,
        then the rate."""
        now = self._clock()
        self._refill(now)
        until = now + seconds
        if until > self._hold_until:
            self._hold_until = until
            self._tokens = 1.0
