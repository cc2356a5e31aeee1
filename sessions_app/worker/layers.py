"""Channel-layer instances for the worker.

channels_redis serves one blocking receive per layer instance well; two (the worker's own
channel and the shared start queue, or a web request waiting for its reply in the same
process) stall each other for the 5 s BZPOPMIN timeout. So with Redis the worker gets one
instance per receive loop. The in-memory layer must stay a single instance: its queues live
inside it.
"""

from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer


def worker_layers():
    """(layer for the worker's own channel, layer for the shared start queue)."""
    default = get_channel_layer()
    if isinstance(default, InMemoryChannelLayer):
        return default, default
    return channel_layers.make_backend("default"), channel_layers.make_backend("default")
