"""When to check an account's key again after a check failed for a passing reason.

The exchange down, unreachable, answering garbage or asking the app to slow down says nothing about the
key: waiting for the next regular check (6 hours) would leave the account unchecked, and its bots unable
to start, for hours. ``RetryBook`` schedules another try after 1, 2, 4, 8... minutes, never more than 30
apart, per account; a check that succeeds, or fails for a reason about the key itself (a wrong key or
secret, a missing right, the clock), ends the retries. Times are the event loop's clock (monotonic
seconds), passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptobots_desktop.core.errors import (
    CryptobotsError,
    ExchangeUnavailable,
    MalformedResponse,
    RateLimited,
)

RETRY_FIRST_S = 60.0
RETRY_MAX_S = 30 * 60.0


def is_transient(error: CryptobotsError) -> bool:
    """True when trying again later may well succeed unchanged (network, 5xx, maintenance, rate limits)."""
    return isinstance(error, ExchangeUnavailable | MalformedResponse)


def in_words(seconds: float) -> str:
    """``90`` -> "2 minutes", ``1`` -> "1 second" (rounded: a person reads it)."""
    if seconds < 60:
        n, unit = max(1, round(seconds)), "second"
    else:
        n, unit = max(1, round(seconds / 60)), "minute"
    return f"{n} {unit}{'s' if n != 1 else ''}"


@dataclass(frozen=True, slots=True)
class Retry:
    attempt: int  # failed checks in a row so far
    due: float  # loop time of the next try


class RetryBook:
    """Per account: how many checks in a row failed for a passing reason, and when to try again."""

    def __init__(self, first_s: float = RETRY_FIRST_S, max_s: float = RETRY_MAX_S) -> None:
        self._first = first_s
        self._max = max_s
        self._retries: dict[str, Retry] = {}

    def failed(self, account_id: str, error: CryptobotsError, now: float) -> float:
        """A check failed for a passing reason: schedule the next one; returns the wait in seconds.

        The wait doubles with each failure in a row, from ``first_s`` up to ``max_s``, and is never shorter
        than what the exchange asked for when it rate-limited (``RateLimited.retry_after``).
        """
        attempt = self._retries[account_id].attempt if account_id in self._retries else 0
        wait = min(self._first * (1 << min(attempt, 32)), self._max)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        self._retries[account_id] = Retry(attempt + 1, now + wait)
        return wait

    def clear(self, account_id: str) -> None:
        """The check succeeded, failed for a reason retrying will not fix, or the account is gone."""
        self._retries.pop(account_id, None)

    def due(self, now: float) -> list[str]:
        """The accounts whose next try is due at ``now``, the longest overdue first."""
        due = sorted((r.due, a) for a, r in self._retries.items() if r.due <= now)
        return [a for _, a in due]

    def next_due(self) -> float | None:
        """The loop time of the earliest scheduled try (None: none scheduled)."""
        return min((r.due for r in self._retries.values()), default=None)

    def attempts(self, account_id: str) -> int:
        """Failed checks in a row for a passing reason (0: none pending)."""
        retry = self._retries.get(account_id)
        return 0 if retry is None else retry.attempt
