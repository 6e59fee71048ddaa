"""The live events feed of a page: one more subscriber of the gateway's `EventFeed`.

    EventStore change feed --(one follow, event_feed.py)--> EventSubscription (this page's
    filter and scope, exactly StreamEvents')  --next()-->  EventChannel._pending (bounded)
    --one `events` message at a time--> the socket's outbox --> browser

- **The same follow and the same scope as gRPC.** The channel subscribes to the
  gateway's `EventFeed` (no second follow of the store) with the filter StreamEvents
  would build for the same request (`EventScope`: the cameras the user may see, narrowed
  to the named camera or groups), and the gateway's `AccessWatch` re-resolves it when
  camera groups change. A viewer never gets another group's event.
- **Not newest-wins.** A tile needs only its newest frame, a duty room needs every
  alert. The channel keeps the events not yet sent in a list of at most
  `BACKLOG` (an event updated again replaces its older revision in place) and has at
  most one `events` message in the outbox, which takes the whole list when the socket
  sends it. A browser that reads nothing (hidden tab, slow link) makes the list full:
  the oldest are then left out and the next message says how many (`lost`), so the
  page can say "N events not shown: see Search". Nothing else waits for it.
- **A fall-behind of the feed is no loss.** Should the feed cut the subscription off
  (its own queue full, the event loop starved), the channel resubscribes from the
  position of the last change it took, and the feed catches up from the store.
- On open, the page gets the `RECENT` newest matching events (`recent: true`) so a
  reload shows what just happened; live changes follow. An event may come twice (a
  change committed between the two reads): the page keeps one row per event id.
- **Acknowledgements.** Each event carries `ack` (who, when) as the store has it. An
  acknowledgement made on any page of this front door reaches every open feed that
  showed the event (`acks` of the next message; a feed never hears of an event it
  did not show, so nothing of another group leaks).
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from ..domain import Event
from ..events import Acknowledgement, EventFilter, EventStoreError, Order
from ..gateway.event_feed import EventSubscription
from ..gateway.event_scope import EventScope, by_id, needs_views
from ..gateway.fanout import CloseKind, StreamClosed
from .channels import Channel, ChannelHost
from .errors import ErrorCode, WebError
from .outbox import Outgoing
from .protocol import Subscribe, encode_text
from .views import ack_summary, event_summary

BACKLOG = 200  # events waiting for a browser that reads nothing; beyond it the oldest are left out
RECENT = 20  # events a page gets when it opens the feed
KNOWN = 1000  # event ids a feed remembers having shown (and their acknowledgements)

log = logging.getLogger("matthan.web")


class EventChannel(Channel):
    method = "WebEvents"

    def __init__(self, host: ChannelHost, request: Subscribe):
        super().__init__(host, request)
        self._sub: EventSubscription | None = None
        self._filter: EventFilter | None = None
        self._scope = EventScope((request.key.camera,) if request.key.camera else (), request.groups)
        self._position = 0  # of the last change taken from the feed: where a resubscription resumes
        self._pending: OrderedDict[str, dict] = OrderedDict()  # event id -> summary, oldest first
        self._lost = 0  # left out of the pending list since the last message
        self._queued = False  # an `events` message of this channel is in the outbox
        self._recent = False
        self.lost_total = 0
        self._last_count = 0  # events in the message being sent
        self._known: OrderedDict[str, Acknowledgement | None] = OrderedDict()  # shown events, oldest first
        self._pending_acks: dict[str, dict] = {}  # acknowledgements of events shown, not sent yet

    async def _open(self) -> None:
        services, principal = self.host.services, self.host.principal
        events, feed = services.events, services.event_feed
        if events is None or feed is None:
            raise WebError(
                503, ErrorCode.UNAVAILABLE, "this front door has no event store (`matthan serve` starts one)"
            )
        views = by_id(await services.control.list_cameras()) if needs_views(principal, self._scope) else {}
        cameras = self._scope.cameras_for(principal, views)
        self._filter = EventFilter(cameras=cameras)
        info = await events.feed()
        recent = await events.query(self._filter, order=Order.NEWEST_FIRST, page_size=RECENT, cursor=None)
        acks = await events.acknowledgements(tuple(e.event_id for e in recent.events))
        self._position = info.position
        self._subscribe()
        services.ack_listeners.add(self._on_ack)
        shown = sorted(cameras)[:50] if cameras is not None else []
        self._log_start(shown, groups=sorted(self.request.groups)[:20])
        for event in reversed(recent.events):
            self._add(event, acks.get(event.event_id))
        self._recent = True
        self._offer()

    def _subscribe(self) -> None:
        assert self._filter is not None
        services = self.host.services
        assert services.event_feed is not None
        self._sub = services.event_feed.subscribe(self._filter, self._position, self._scope)
        services.watch.watch(self.host.principal, self._sub)

    async def _pump(self) -> None:
        while True:
            assert self._sub is not None
            try:
                item = await self._sub.next()
            except StreamClosed as closed:
                if closed.kind is not CloseKind.SLOW_CONSUMER:
                    raise
                # The feed cut us off: resume after the last change taken, from the store.
                self._release()
                self._subscribe()
                continue
            if item is None:
                continue
            self._position = item.position
            if item.change is not None:
                # Each change's filter is the subscription's own, kept current by AccessWatch.
                event = item.change.event
                self._add(event, await self._ack_of(event))
                self._offer()

    async def _ack_of(self, event: Event) -> Acknowledgement | None:
        """The event's acknowledgement: a new event has none; an update of one this feed
        has not shown may have been acknowledged before the page opened (ask the store)."""
        if event.event_id in self._known:
            return self._known[event.event_id]
        if event.revision == 0:
            return None
        events = self.host.services.events
        assert events is not None
        try:
            return (await events.acknowledgements((event.event_id,))).get(event.event_id)
        except EventStoreError as exc:  # shown unacknowledged; the next update asks again
            log.debug("events feed: acknowledgement of %s not read: %r", event.event_id, exc)
            return None

    def _add(self, event: Event, ack: Acknowledgement | None) -> None:
        summary = event_summary(event, ack)
        self._pending.pop(event.event_id, None)  # a newer revision takes the older one's place
        self._pending[event.event_id] = summary
        self._known.pop(event.event_id, None)
        self._known[event.event_id] = ack
        while len(self._known) > KNOWN:
            self._known.popitem(last=False)
        while len(self._pending) > BACKLOG:
            self._pending.popitem(last=False)
            self._lost += 1
            self.lost_total += 1

    def _on_ack(self, ack: Acknowledgement) -> None:
        """An acknowledgement made through this console: tell the page if it showed the event."""
        if ack.event_id not in self._known:
            return
        self._known[ack.event_id] = ack
        pending = self._pending.get(ack.event_id)
        if pending is not None:
            pending["ack"] = ack_summary(ack)
        else:
            self._pending_acks[ack.event_id] = ack_summary(ack)
        self._offer()

    def _offer(self) -> None:
        if self._queued:
            return  # the message in the outbox takes everything pending when it is sent
        self._queued = True
        self.host.outbox.put(self.key, Outgoing(self._encode, self._sent))

    def _encode(self, seq: int) -> str:
        events, lost, recent = list(self._pending.values()), self._lost, self._recent
        acks = list(self._pending_acks.values())
        self._pending.clear()
        self._pending_acks.clear()
        self._lost, self._recent, self._queued = 0, False, False
        self._last_count = len(events)
        message = {
            "type": "events",
            "camera": self.key.camera or None,
            "events": events,
            "acks": acks,
            "lost": lost,
            "recent": recent,
        }
        return encode_text(message, seq)

    def _sent(self) -> None:
        if self.record is not None:
            self.record.messages += self._last_count

    def _release(self) -> None:
        self.host.services.ack_listeners.discard(self._on_ack)
        if self._sub is not None:
            self.host.services.watch.forget(self._sub)
            self._sub.close()

    def _counters(self) -> dict:
        return {"dropped_slow": self.lost_total, "last_position": self._position}
