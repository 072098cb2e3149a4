"""Wall-clock time, for what happens in real time: live accounts' bots, key checks, key expiry."""

from __future__ import annotations

import time


def wall_ms() -> int:
    """Now, in Unix milliseconds."""
    return int(time.time() * 1000)


class WallClock:
    """``core.ports.Clock`` on wall time (a live account's clock; paper accounts use the replay's)."""

    def now_ms(self) -> int:
        return wall_ms()
