"""The Redis channel layer, with each send in one round trip to Redis instead of four.

channels_redis sends a message as four commands one after the other (drop expired messages,
count them against the channel's capacity, add the message, renew the key's expiry), so every
leg of a worker command waits for four round trips; on a busy machine each also waits for the
Redis server to get a CPU. Here the same four steps run as one Lua script: the same keys, the same
capacity rule (ChannelFull when the channel holds `capacity` messages), the same expiry, and
receiving is channels_redis's own.
"""

import time

from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer

SEND = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[3])
if redis.call('ZCOUNT', KEYS[1], '-inf', '+inf') >= tonumber(ARGV[4]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class OneTripRedisChannelLayer(RedisChannelLayer):
    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        assert "__asgi_channel__" not in message
        target = channel
        if "!" in channel:  # a process-local channel: its process's inbox, the full name inside
            message = {**message, "__asgi_channel__": channel}
            target = self.non_local_name(channel)
            index = self.consistent_hash(channel)
        else:
            index = next(self._send_index_generator)
        now = time.time()
        stored = await self.connection(index).eval(
            SEND,
            1,
            self.prefix + target,
            self.serialize(message),
            now,
            int(now) - int(self.expiry),
            self.get_capacity(channel),
            int(self.expiry),
        )
        if not stored:
            raise ChannelFull()
