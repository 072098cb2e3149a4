"""The one path events take from the engine to whoever listens (the window's bridge, the log)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .events import ActivityLogged, Event, Level

Handler = Callable[[Event], None]
log = logging.getLogger(__name__)

_LOG_LEVELS = {Level.INFO: logging.INFO, Level.WARNING: logging.WARNING, Level.ERROR: logging.ERROR}


class EventBus:
    """Synchronous publish/subscribe on the event loop's thread; a failing handler never stops the others."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Add a handler; returns the function that removes it."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        if isinstance(event, ActivityLogged):
            log.log(_LOG_LEVELS[event.level], "%s: %s", event.source, event.message)
        for handler in tuple(self._handlers):
            try:
                handler(event)
            except Exception:
                log.exception("event handler %r failed on %s", handler, type(event).__name__)

    def activity(self, level: Level, source: str, message: str) -> None:
        """Shorthand for publishing one activity line."""
        self.publish(ActivityLogged(level, source, message))
