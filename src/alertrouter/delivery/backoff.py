"""When to retry: exponential backoff with full jitter, never before ``Retry-After``."""

from __future__ import annotations

import random

__all__ = ["retry_delay"]


def retry_delay(
    attempt: int,
    initial: float,
    max_interval: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Full jitter (uniform in [0, min(cap, initial * 2**(attempt-1))]) spreads retries of many
    jobs; a provider's Retry-After is a floor.
    """
    ceiling = min(max_interval, initial * (2 ** max(0, attempt - 1)))
    delay = (rng or random).uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
