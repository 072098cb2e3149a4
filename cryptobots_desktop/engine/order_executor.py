"""The order executor: the only way an order reaches an exchange.

1. the intent is journaled as PENDING (committed) before any network call;
2. it is sent under its client order id;
3. the answer is journaled before anyone hears of it (``OrderUpdated`` on the bus).
A definitive refusal is journaled as REJECTED. Any other failure leaves the order's fate unknown: the
reconciler asks the exchange by client order id, and only an order the exchange never received may be
sent again, under the same id.
"""

from __future__ import annotations

import logging

from cryptobots_desktop.core.errors import (
    CryptobotsError,
    DuplicateClientOrderId,
    ExchangeError,
    OrderFateNotYetKnown,
    OrderNotCancelable,
    is_definitive_refusal,
)
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent
from cryptobots_desktop.core.ports import Clock, ExchangeGateway, Journal
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import Level, OrderUpdated
from cryptobots_desktop.engine.reconciler import Reconciler

log = logging.getLogger(__name__)


class OrderExecutor:
    """Places, retries and cancels orders of one exchange account, journal first."""

    def __init__(
        self,
        journal: Journal,
        gateway: ExchangeGateway,
        bus: EventBus,
        account_id: str,
        *,
        late_acceptance_s: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        """``late_acceptance_s``: how long after it is sent a request may still reach the exchange and be
        accepted, on the account's ``clock`` (see :mod:`cryptobots_desktop.engine.reconciler`); 0 where
        nothing is in flight (paper)."""
        self._journal = journal
        self._gateway = gateway
        self._bus = bus
        self.account_id = account_id
        self._clock = clock
        self.reconciler = Reconciler(
            journal, gateway, bus, account_id, late_acceptance_s=late_acceptance_s, clock=clock
        )

    def _now_ms(self) -> int | None:
        return self._clock.now_ms() if self._clock is not None else None

    async def place(self, intent: OrderIntent) -> JournaledOrder:
        """Journal the intent, send it, journal the answer. Never raises for the exchange's answers:
        the returned row says what happened (OPEN/FILLED, REJECTED, or still PENDING if unknown)."""
        if intent.account_id != self.account_id:
            raise ValueError(f"intent for account {intent.account_id!r} given to {self.account_id!r}")
        row = await self._journal.record_intent(intent)
        return await self._send(row)

    async def retry(self, row: JournaledOrder) -> JournaledOrder:
        """Send again an intent the exchange never received (NOT_PLACED), under the same client order id."""
        if row.state is not IntentState.NOT_PLACED:
            raise ValueError(f"only a NOT_PLACED order is sent again, not a {row.state.value} one")
        # stamped on the account's clock: after a restart, the reconciler counts the late-request window
        # from this send, not from the first
        row = await self._journal.record_state(row.client_order_id, IntentState.PENDING, at_ms=self._now_ms())
        return await self._send(row)

    async def cancel(self, row: JournaledOrder) -> JournaledOrder:
        """Cancel an open order and journal the outcome (a fill that raced the cancel is kept)."""
        request = row.intent.request
        try:
            order = await self._gateway.cancel_order(request.symbol, row.client_order_id)
        except OrderNotCancelable:
            return await self.reconciler.reconcile_one(row)  # it filled or closed meanwhile
        except ExchangeError as exc:
            self._report(row, exc)
            return await self._reconcile_after_failure(row)
        after = await self._journal.record_order(row.client_order_id, order)
        self._bus.publish(OrderUpdated(after))
        return after

    async def _send(self, row: JournaledOrder) -> JournaledOrder:
        self.reconciler.note_sending(row.client_order_id)
        try:
            order = await self._gateway.create_order(row.intent.request)
        except DuplicateClientOrderId:
            # an earlier send of this very id reached the exchange: adopt that order, never send a twin
            return await self._reconcile_after_failure(row)
        except ExchangeError as exc:
            if is_definitive_refusal(exc):
                self.reconciler.note_settled(row.client_order_id)
                after = await self._journal.record_state(
                    row.client_order_id, IntentState.REJECTED, exc.message
                )
                self._bus.publish(OrderUpdated(after))
                self._report(row, exc)
                return after
            self._report(row, exc)
            await self._note_failure(row, str(exc))
            return await self._reconcile_after_failure(row)
        except Exception as exc:  # a bug or an unmapped error: the order's fate is unknown, reconcile
            log.exception("sending order %s failed unexpectedly", row.client_order_id)
            await self._note_failure(row, f"{type(exc).__name__}: {exc}")
            return await self._reconcile_after_failure(row)
        self.reconciler.note_settled(row.client_order_id)
        after = await self._journal.record_order(row.client_order_id, order)
        self._bus.publish(OrderUpdated(after))
        return after

    async def _note_failure(self, row: JournaledOrder, error: str) -> None:
        """Keep the failure's words on a row whose fate is still unknown (never on one already resolved)."""
        current = await self._journal.get(row.client_order_id)
        if current is not None and current.state is IntentState.PENDING:
            await self._journal.record_state(
                row.client_order_id, IntentState.PENDING, error, at_ms=self._now_ms()
            )

    async def _reconcile_after_failure(self, row: JournaledOrder) -> JournaledOrder:
        """Ask the exchange what became of the order; if it can't say either, the row stays PENDING."""
        current = await self._journal.get(row.client_order_id) or row
        try:
            return await self.reconciler.reconcile_one(current)
        except ExchangeError as exc:
            self._report(current, exc, checking=True)
            return current

    def _report(self, row: JournaledOrder, exc: CryptobotsError, *, checking: bool = False) -> None:
        r = row.intent.request
        what = f"{r.side.value} {r.amount} {r.symbol} ({row.client_order_id})"
        verb = "Checking order" if checking else "Order"
        level = Level.WARNING if isinstance(exc, OrderFateNotYetKnown) else Level.ERROR  # it resolves itself
        self._bus.activity(level, self._gateway.exchange_id, f"{verb} {what}: {exc}")
