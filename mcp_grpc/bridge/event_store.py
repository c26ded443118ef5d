"""A bounded in-memory event store for the HTTP bridge's SSE streams, so a session-era client that lost its stream
resumes it with ``Last-Event-ID`` (SEP-1699) instead of losing the messages sent meanwhile.

Only the newest :data:`DEFAULT_MAX_EVENTS` events are kept (the oldest are dropped first); a client resuming after a
dropped event gets what is left of its stream. Event ids are ``<stream id>/<sequence number>``: nothing a client
could use to read another stream, since a replay only ever returns the events of the id's own stream.
"""

from __future__ import annotations

import collections
import itertools

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage

__all__ = ["DEFAULT_MAX_EVENTS", "BoundedEventStore"]

#: Events kept across all streams of one bridge.
DEFAULT_MAX_EVENTS = 10_000


class BoundedEventStore(EventStore):
    """Keeps the newest ``max_events`` events of every stream, in order."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self._max_events = max_events
        self._events: collections.OrderedDict[int, tuple[StreamId, JSONRPCMessage | None]] = collections.OrderedDict()
        self._sequence = itertools.count(1)

    def __len__(self) -> int:
        return len(self._events)

    def __bool__(self) -> bool:
        """Always true: the SDK asks ``if not event_store`` to mean "none configured", and an empty store is one."""
        return True

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        sequence = next(self._sequence)
        self._events[sequence] = (stream_id, message)
        while len(self._events) > self._max_events:
            self._events.popitem(last=False)
        return f"{stream_id}/{sequence}"

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        stream_id, _, number = last_event_id.rpartition("/")
        if not stream_id or not number.isdigit():
            return None
        after = int(number)
        for sequence, (owner, message) in list(self._events.items()):
            if sequence > after and owner == stream_id and message is not None:
                await send_callback(EventMessage(message, f"{owner}/{sequence}"))
        return stream_id
