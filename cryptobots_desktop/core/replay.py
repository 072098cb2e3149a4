"""Replay speeds of the paper exchange's market data."""

from __future__ import annotations

from enum import StrEnum


class ReplaySpeed(StrEnum):
    """How fast replayed market time runs against wall time. ``MAX`` steps as fast as the machine can."""

    X1 = "1x"
    X10 = "10x"
    X100 = "100x"
    MAX = "max"

    @property
    def multiplier(self) -> int | None:
        """Replay seconds per wall second, or None for MAX (stepped, not timed)."""
        return {"1x": 1, "10x": 10, "100x": 100}.get(self.value)

    @property
    def label(self) -> str:
        return "As fast as possible" if self is ReplaySpeed.MAX else self.value
