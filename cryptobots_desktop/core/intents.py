"""Order intents: what a bot wants placed, journaled under a deterministic client order id before sending.

The order path (no order lost, none sent twice): an intent is written to the journal as PENDING (committed)
before any network call; the exchange's answer is journaled before anyone else hears of it; a PENDING
intent left by a timeout or a crash is resolved by asking the exchange for its client order id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderStatus, is_valid_client_order_id

_ID_PART = re.compile(r"^[A-Za-z0-9]{1,12}$")
_LEG = re.compile(r"^[a-z][a-z0-9]{0,5}$")


def client_order_id(bot_id: str, deal_no: int, leg: str, attempt: int) -> str:
    """The one client order id of (bot, deal, leg, attempt): ``cb<bot>-<deal>-<leg>-<attempt>``.

    Deterministic, so a retry of the same attempt reuses the id and the exchange itself refuses a twin;
    at most 36 characters of ``[A-Za-z0-9-]`` (Binance's limit, the strictest). A new attempt for the same
    leg (e.g. a take-profit replaced after a safety order filled) gets a new id.
    """
    if not _ID_PART.match(bot_id):
        raise ValueError(f"bot id must be 1-12 letters or digits: {bot_id!r}")
    if not _LEG.match(leg):
        raise ValueError(f"leg must be a short lowercase name: {leg!r}")
    if deal_no < 0 or attempt < 0:
        raise ValueError("deal number and attempt must not be negative")
    cid = f"cb{bot_id}-{deal_no}-{leg}-{attempt}"
    if not is_valid_client_order_id(cid):
        raise ValueError(f"client order id too long: {cid!r}")
    return cid


class IntentState(StrEnum):
    """Where an intent stands in the journal."""

    PENDING = "pending"  # journaled; sent or not, no answer from the exchange yet
    OPEN = "open"  # the exchange accepted it; resting or partly filled
    FILLED = "filled"
    CANCELED = "canceled"  # canceled at the exchange (possibly after partial fills)
    REJECTED = "rejected"  # the exchange refused it: nothing was placed
    NOT_PLACED = "not_placed"  # a PENDING the exchange never received (found absent by the reconciler)

    @property
    def is_final(self) -> bool:
        return self in (IntentState.FILLED, IntentState.CANCELED, IntentState.REJECTED)

    @property
    def needs_reconciling(self) -> bool:
        """PENDING (answer unknown) and OPEN (fills may have happened since) are checked at start."""
        return self in (IntentState.PENDING, IntentState.OPEN)

    @classmethod
    def of(cls, status: OrderStatus) -> IntentState:
        return {
            OrderStatus.OPEN: cls.OPEN,
            OrderStatus.FILLED: cls.FILLED,
            OrderStatus.CANCELED: cls.CANCELED,
            OrderStatus.REJECTED: cls.REJECTED,
        }[status]


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One order a bot wants, tied to its account, bot, deal and leg."""

    account_id: str
    bot_id: str
    deal_no: int
    leg: str
    attempt: int
    request: OrderRequest
    created_ms: int

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    def __post_init__(self) -> None:
        expected = client_order_id(self.bot_id, self.deal_no, self.leg, self.attempt)
        if self.request.client_order_id != expected:
            raise ValueError(f"intent's client order id {self.request.client_order_id!r} is not {expected!r}")


@dataclass(frozen=True, slots=True)
class JournaledOrder:
    """An intent as the journal holds it, with everything the exchange said about it."""

    intent: OrderIntent
    state: IntentState
    exchange_order_id: str | None = None
    fills: tuple[Fill, ...] = field(default=())
    error: str | None = None  # the rejection or the last ambiguous failure, in words
    updated_ms: int = 0

    @property
    def client_order_id(self) -> str:
        return self.intent.client_order_id

    @property
    def filled(self) -> Decimal:
        return sum((f.amount for f in self.fills), Decimal(0))


def merge_order(journaled: JournaledOrder, order: Order) -> JournaledOrder:
    """The journal row after the exchange reported ``order``: its state, id, and every fill (by trade id)."""
    known = {f.trade_id for f in journaled.fills}
    fills = journaled.fills + tuple(f for f in order.fills if f.trade_id not in known)
    return JournaledOrder(
        journaled.intent, IntentState.of(order.status), order.exchange_order_id, fills, None, order.updated_ms
    )
