"""Shared fixtures: the real redis-server the Redis store tests run against."""

from __future__ import annotations

import pytest

from redis_server import RedisServer, shared_redis_server


@pytest.fixture(scope="session")
def redis_server() -> RedisServer:
    """The session's redis-server on 127.0.0.1; skips the test when redis-server is missing."""
    return shared_redis_server()
