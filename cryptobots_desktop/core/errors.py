"""Domain errors: each carries a sentence for the person and a hint saying what to do next.

Adapters translate whatever their exchange raises into these (one place per adapter); the engine and the
window only ever see these. ``exchange_code``/``exchange_message`` keep the exchange's own words, as the
exchange sent them, for the activity log; they never carry secrets.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class CryptobotsError(Exception):
    """Base of every error the app shows a person."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ExchangeError(CryptobotsError):
    """The exchange (real or paper) refused or failed a request."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        exchange_code: int | None = None,
        exchange_message: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.exchange_code = exchange_code
        self.exchange_message = exchange_message


class UnknownPair(ExchangeError):
    """The exchange does not list this pair (or not for spot trading)."""


class OrderRejected(ExchangeError):
    """The exchange rejected an order; nothing was placed."""


class AmountBelowMinimum(OrderRejected):
    """The order amount is under the market's minimum (or rounds to nothing at its lot step)."""

    def __init__(self, message: str, hint: str = "", *, minimum: Decimal, **kw: object) -> None:
        super().__init__(message, hint, **kw)  # type: ignore[arg-type]
        self.minimum = minimum


class NotionalBelowMinimum(OrderRejected):
    """The order's value (price x amount) is under the market's minimum notional."""

    def __init__(self, message: str, hint: str = "", *, minimum: Decimal, **kw: object) -> None:
        super().__init__(message, hint, **kw)  # type: ignore[arg-type]
        self.minimum = minimum


class InsufficientFunds(OrderRejected):
    """The account does not hold enough free balance for the order."""


class DuplicateClientOrderId(OrderRejected):
    """An order with this client order id already exists: the exchange refused a twin."""


class OrderNotFound(ExchangeError):
    """The exchange knows no order with that id."""


class OrderFateNotYetKnown(ExchangeError):
    """The exchange has no order with this client order id, but the request that sent it could still
    reach it and be accepted (it is younger than the exchange's window for late requests)."""

    def __init__(self, client_order_id: str, seconds_left: float) -> None:
        super().__init__(
            f"The exchange has no order {client_order_id} yet, but the request that sent it may still "
            "arrive.",
            f"It is checked again in {max(seconds_left, 0.1):.0f} s; nothing is sent again until then.",
        )
        self.client_order_id = client_order_id


class OrderNotCancelable(ExchangeError):
    """The order is already filled, canceled or rejected."""


class MarketDataUnavailable(ExchangeError):
    """No price data for the pair at this moment (e.g. before the replay's first candle)."""


class AuthenticationFailed(ExchangeError):
    """The exchange refused the key, secret, passphrase or signature: nothing was done."""


class KeyNotPermitted(AuthenticationFailed):
    """The key is valid but may not do this (reading, spot trading), or not from this IP address."""


class ClockOutOfSync(ExchangeError):
    """The exchange refused a request because this computer's clock differs too much from its own.

    The request was refused before it was processed (an order was certainly not placed).
    """


class ExchangeUnavailable(ExchangeError):
    """The exchange could not be reached or did not answer in time (network, 5xx, maintenance).

    For an order this is ambiguous: it may or may not have been placed, so the order is reconciled by its
    client order id before anything else is sent for it.
    """


class RateLimited(ExchangeUnavailable):
    """The exchange asked us to slow down; ``retry_after`` seconds when it said so."""

    def __init__(
        self, message: str, hint: str = "", *, retry_after: float | None = None, **kw: object
    ) -> None:
        super().__init__(message, hint, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class MalformedResponse(ExchangeError):
    """The exchange answered something that cannot be understood (ambiguous for an order)."""


class VaultProblem(StrEnum):
    """Why the OS keyring cannot keep API keys right now."""

    NO_KEYRING = "no_keyring"  # no Secret Service / KWallet running, or keyring found no backend
    INSECURE_BACKEND = "insecure_backend"  # a plaintext, file, null or unknown backend: refused
    LOCKED = "locked"  # the keyring exists but is locked and was not unlocked
    FAILED = "failed"  # the keyring answered with an error


class VaultUnavailable(CryptobotsError):
    """The OS keyring cannot store or read API keys; live accounts are unavailable (paper mode works).

    The message never carries a secret: whatever the keyring said is scrubbed first.
    """

    def __init__(self, message: str, hint: str = "", *, problem: VaultProblem) -> None:
        super().__init__(message, hint)
        self.problem = problem


class InvalidCredentials(CryptobotsError):
    """What was typed into a credential field cannot be an API key, secret, passphrase or uid.

    ``field`` names the field (``api_key``, ``secret``, ``passphrase``, ``uid``); never the value.
    """

    def __init__(self, message: str, hint: str = "", *, field: str) -> None:
        super().__init__(message, hint)
        self.field = field


class SeedPhraseRefused(InvalidCredentials):
    """A wallet recovery phrase was pasted into a credential field: refused before it went anywhere."""


class InvalidAccount(CryptobotsError):
    """An account's label or id is not acceptable (empty, too long, already used)."""


class RiskNotAccepted(CryptobotsError):
    """The typed confirmation did not match the account's label, or there was nothing to accept."""


def is_definitive_refusal(error: ExchangeError) -> bool:
    """True when the exchange certainly did not place the order (a rejection, an unknown pair, a bad key).

    Anything else (unreachable, timeout, malformed answer, unexpected error) leaves the order's fate
    unknown, and it must be reconciled by client order id before any retry.
    """
    return isinstance(
        error, OrderRejected | UnknownPair | AuthenticationFailed | ClockOutOfSync
    ) and not isinstance(error, DuplicateClientOrderId)
