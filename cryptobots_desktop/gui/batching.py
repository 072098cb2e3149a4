"""Coalescing the engine's bursts of updates: a page keeps the latest of each and applies them together."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

FLUSH_MS = 200
"""How long a page may lag behind the engine: one model update per page at most this often."""


class Throttle(QObject):
    """Calls ``callback`` once, ``interval_ms`` after the first of any number of requests."""

    def __init__(
        self, callback: Callable[[], None], interval_ms: int = FLUSH_MS, parent: QObject | None = None
    ):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(callback)

    def request(self) -> None:
        """Call back at the end of the current interval (starting one if none runs)."""
        if not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        """Forget the pending call (the caller does the work now)."""
        self._timer.stop()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()
