"""Domain errors: each carries a sentence for the person and a hint saying what to do next.

Adapters translate whatever their exchange raises into these (one place per adapter); the engine and the
window only ever see these. ``exchange_code``/``exchange_message`` keep the exchange's own words, as the
exchange sent them, for the activity log; they never carry secrets.
"""

from __future__ import annotations

from decimal import Decimal


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


class OrderNotCancelable(ExchangeError):
    """The order is already filled, canceled or rejected."""


class MarketDataUnavailable(ExchangeError):
    """No price data for the pair at this moment (e.g. before the replay's first candle)."""
