"""The Redis channel layer sends in one round trip and keeps channels_redis's storage: the same
keys, capacity and expiry, so either layer reads what the other sent."""

import uuid

import pytest
import redis.asyncio as redis
from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from core.redis_layer import OneTripRedisChannelLayer

# CI and this machine run Redis beside PostgreSQL; without REDIS_URL the default port is used.
URL = settings.REDIS_URL or "redis://127.0.0.1:6379/0"


def layers(**config):
    prefix = f"test-layer-{uuid.uuid4().hex[:8]}"
    options = {"hosts": [URL], "prefix": prefix, **config}
    return OneTripRedisChannelLayer(**options), RedisChannelLayer(**options), prefix


async def test_either_layer_receives_what_the_other_sent():
    ours, stock, _ = layers()
    try:
        await ours.send("jobs", {"type": "job", "n": 1})
        assert await stock.receive("jobs") == {"type": "job", "n": 1}
        await stock.send("jobs", {"type": "job", "n": 2})
        assert await ours.receive("jobs") == {"type": "job", "n": 2}
        reply_to = await ours.new_channel()  # a process-local channel: the process's inbox
        await ours.send(reply_to, {"type": "reply", "data": b"\x00bytes"})
        assert await ours.receive(reply_to) == {"type": "reply", "data": b"\x00bytes"}
    finally:
        await ours.flush()
        await ours.close_pools()
        await stock.close_pools()


async def test_a_full_channel_refuses_until_a_message_is_taken():
    ours, stock, _ = layers(capacity=2)
    try:
        await ours.send("jobs", {"type": "job", "n": 1})
        await ours.send("jobs", {"type": "job", "n": 2})
        with pytest.raises(ChannelFull):
            await ours.send("jobs", {"type": "job", "n": 3})
        assert (await ours.receive("jobs"))["n"] == 1
        await ours.send("jobs", {"type": "job", "n": 3})
        assert [(await ours.receive("jobs"))["n"] for _ in range(2)] == [2, 3]
    finally:
        await ours.flush()
        await ours.close_pools()
        await stock.close_pools()


async def test_a_sent_message_expires_like_channels_redis_s():
    ours, stock, prefix = layers(expiry=30)
    client = redis.Redis.from_url(URL)
    try:
        await ours.send("jobs", {"type": "job"})
        assert 0 < await client.ttl(f"{prefix}jobs") <= 30
        # A message older than the expiry is dropped by the next send, as channels_redis drops it.
        await client.zadd(f"{prefix}jobs", {b"stale": 1.0})
        await ours.send("jobs", {"type": "job"})
        assert await client.zscore(f"{prefix}jobs", b"stale") is None
        assert await client.zcard(f"{prefix}jobs") == 2
    finally:
        await client.aclose()
        await ours.flush()
        await ours.close_pools()
        await stock.close_pools()
