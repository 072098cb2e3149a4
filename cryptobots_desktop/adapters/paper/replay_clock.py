"""The replay clock: recorded market time running against wall time at a chosen speed."""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptobots_desktop.core.replay import ReplaySpeed


class ReplayClock:
    """Implements ``core.ports.ReplayControl``.

    Replay ms = anchor_replay + (wall_now - anchor_wall) x multiplier x 1000, capped at ``end_ms``.
    Changing speed re-anchors, so time never jumps; at ``ReplaySpeed.MAX`` time moves only by ``step``.
    ``wall_clock`` returns seconds (``time.monotonic`` by default; inject a fake one in tests).
    """

    def __init__(
        self,
        start_ms: int,
        end_ms: int,
        now_ms: int,
        speed: ReplaySpeed = ReplaySpeed.X10,
        wall_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not start_ms <= end_ms:
            raise ValueError("replay start is after its end")
        self._start_ms = start_ms
        self._end_ms = end_ms
        self._wall = wall_clock
        self._speed = speed
        self._anchor_replay = min(max(now_ms, start_ms), end_ms)
        self._anchor_wall = wall_clock()

    def now_ms(self) -> int:
        """Replay time now, in Unix milliseconds."""
        multiplier = self._speed.multiplier
        if multiplier is None:
            return self._anchor_replay
        elapsed = int((self._wall() - self._anchor_wall) * multiplier * 1000)
        return min(self._anchor_replay + max(elapsed, 0), self._end_ms)

    def _reanchor(self, replay_ms: int) -> None:
        self._anchor_replay = min(replay_ms, self._end_ms)
        self._anchor_wall = self._wall()

    @property
    def speed(self) -> ReplaySpeed:
        """The current replay speed."""
        return self._speed

    def set_speed(self, speed: ReplaySpeed) -> None:
        """Change speed from this moment on (replay time continues from where it is)."""
        self._reanchor(self.now_ms())
        self._speed = speed

    def step(self, ms: int) -> None:
        """Move replay time forward by ``ms`` (capped at the end); works at any speed."""
        if ms < 0:
            raise ValueError("replay time only moves forward")
        self._reanchor(self.now_ms() + ms)

    @property
    def start_ms(self) -> int:
        """First moment of the recorded data."""
        return self._start_ms

    @property
    def end_ms(self) -> int:
        """Last moment of the recorded data; replay time stops there."""
        return self._end_ms

    @property
    def finished(self) -> bool:
        """Whether replay time has reached the end of the data."""
        return self.now_ms() >= self._end_ms
