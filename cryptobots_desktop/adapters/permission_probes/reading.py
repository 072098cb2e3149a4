"""Reading an exchange's answer field by field: anything absent or of an unexpected type is "unknown"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

DAY_MS = 86_400_000


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one (every field then reads as unknown)."""
    return value if isinstance(value, Mapping) else {}


def flag(value: object) -> bool | None:
    """A JSON boolean, 0/1 or "true"/"false"; anything else is unknown."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1"):
        return value.strip().lower() in ("true", "1")
    return None


def with_optional(required: bool | None, *optional: bool | None) -> bool | None:
    """``required``, unless an optional field (absent on older keys) grants the capability."""
    return True if any(o is True for o in optional) else required


def any_of(*values: bool | None) -> bool | None:
    """True if any is True; unknown if any is unknown; else False."""
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def tokens(value: object) -> frozenset[str] | None:
    """A list of strings or a comma-separated string as a set of names; unknown for anything else."""
    if isinstance(value, str):
        return frozenset(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list | tuple) and all(isinstance(t, str) for t in value):
        return frozenset(t.strip() for t in value if t.strip())
    return None


def has(names: frozenset[str] | None, *wanted: str) -> bool | None:
    """Whether any of ``wanted`` is among ``names`` (unknown when the names are unknown)."""
    return None if names is None else any(w in names for w in wanted)


def addresses(value: object) -> tuple[str, ...] | None:
    """An IP list (JSON list or comma-separated string) in the exchange's order; unknown if unreadable."""
    if isinstance(value, str):
        return tuple(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list | tuple) and all(isinstance(t, str) for t in value):
        return tuple(t.strip() for t in value if t.strip())
    return None


def integer(value: object) -> int | None:
    """A JSON integer or a string of digits (``bool`` is not a number here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def iso_ms(value: object) -> int | None:
    """Unix ms of an ISO-8601 time with a zone ("2023-05-15T03:21:05Z"); unknown if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or moment.year < 1971:
        return None
    return int(moment.timestamp() * 1000)
