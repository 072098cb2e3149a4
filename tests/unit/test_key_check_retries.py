"""The back-off of key checks that failed for a passing reason: 1, 2, 4... minutes, at most 30."""

from __future__ import annotations

from cryptobots_desktop.core.errors import (
    AuthenticationFailed,
    ClockOutOfSync,
    ExchangeUnavailable,
    KeyNotPermitted,
    MalformedResponse,
    RateLimited,
    VaultProblem,
    VaultUnavailable,
)
from cryptobots_desktop.engine.key_check_retries import RetryBook, in_words, is_transient

DOWN = ExchangeUnavailable("Binance is down.")


def test_the_wait_doubles_from_a_minute_to_at_most_half_an_hour() -> None:
    book = RetryBook()
    waits = [book.failed("a", DOWN, now=0.0) for _ in range(8)]
    assert waits == [60, 120, 240, 480, 960, 1800, 1800, 1800]
    assert book.attempts("a") == 8 and book.next_due() == 1800
    assert [in_words(w) for w in waits[:2]] == ["1 minute", "2 minutes"]
    assert in_words(1800) == "30 minutes" and in_words(0.3) == "1 second" and in_words(5) == "5 seconds"


def test_rate_limiting_waits_at_least_what_the_exchange_asked() -> None:
    book = RetryBook(first_s=1, max_s=10)
    assert book.failed("a", RateLimited("Slow down.", retry_after=7), now=100.0) == 7
    assert book.failed("a", RateLimited("Slow down.", retry_after=None), now=200.0) == 2
    assert book.failed("a", RateLimited("Slow down.", retry_after=60), now=300.0) == 60  # above the cap


def test_due_accounts_come_longest_overdue_first_and_a_cleared_one_starts_again() -> None:
    book = RetryBook(first_s=10, max_s=100)
    book.failed("late", DOWN, now=5.0)  # due at 15
    book.failed("early", DOWN, now=0.0)  # due at 10
    book.failed("later", DOWN, now=50.0)  # due at 60
    assert book.due(9.9) == [] and book.due(20) == ["early", "late"] and book.next_due() == 10
    book.clear("early")
    assert book.attempts("early") == 0 and book.failed("early", DOWN, now=0.0) == 10
    book.clear("nobody")  # unknown: nothing happens


def test_only_the_exchange_being_unavailable_or_unreadable_is_a_passing_reason() -> None:
    assert is_transient(DOWN) and is_transient(RateLimited("Slow down."))
    assert is_transient(MalformedResponse("Garbage."))
    for lasting in (
        AuthenticationFailed("Wrong key."),
        KeyNotPermitted("No read right."),
        ClockOutOfSync("Clock."),
        VaultUnavailable("Locked.", problem=VaultProblem.LOCKED),
    ):
        assert not is_transient(lasting)
