"""The reconciler: makes the journal agree with the exchange, by client order id.

It runs at start (for every PENDING or OPEN intent of an account) and after any ambiguous failure. For each
intent it asks the exchange for the order with that client order id: found, the journal adopts what the
exchange says (state, exchange id, fills); absent, a PENDING intent is marked NOT_PLACED, so a retry may
send it again under the same id (and the exchange itself refuses a twin if the first send arrives late).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptobots_desktop.core.errors import ExchangeError
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.orders import Order
from cryptobots_desktop.core.ports import ExchangeGateway, Journal
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import Level, OrderUpdated


@dataclass
class ReconcileReport:
    """What one pass found: orders adopted or updated, intents found not placed, and those still unknown."""

    updated: list[JournaledOrder] = field(default_factory=list)
    not_placed: list[JournaledOrder] = field(default_factory=list)
    unresolved: list[tuple[JournaledOrder, ExchangeError]] = field(default_factory=list)


def _unchanged(row: JournaledOrder, order: Order) -> bool:
    """The exchange reports exactly what the journal holds: same state, same order id, same fills."""
    return (
        row.state is IntentState.of(order.status)
        and row.exchange_order_id == order.exchange_order_id
        and {f.trade_id for f in row.fills} == {f.trade_id for f in order.fills}
    )


class Reconciler:
    def __init__(self, journal: Journal, gateway: ExchangeGateway, bus: EventBus, account_id: str) -> None:
        self._journal = journal
        self._gateway = gateway
        self._bus = bus
        self.account_id = account_id

    async def reconcile_all(self) -> ReconcileReport:
        """Check every PENDING and OPEN intent of the account against the exchange."""
        report = ReconcileReport()
        for row in await self._journal.needing_reconciliation(self.account_id):
            try:
                after = await self.reconcile_one(row)
            except ExchangeError as exc:
                report.unresolved.append((row, exc))
                continue
            if after.state is IntentState.NOT_PLACED:
                report.not_placed.append(after)
            elif after != row:
                report.updated.append(after)
        if report.unresolved:
            self._bus.activity(
                Level.WARNING,
                self._gateway.exchange_id,
                f"{len(report.unresolved)} order(s) could not be checked with the exchange yet "
                f"({report.unresolved[0][1].message}); nothing more is sent for them until they are.",
            )
        return report

    async def reconcile_one(self, row: JournaledOrder) -> JournaledOrder:
        """Bring one journal row in line with the exchange; raises ExchangeError if the exchange can't say."""
        if row.state.is_final or row.state is IntentState.NOT_PLACED:
            return row
        order = await self._gateway.fetch_order(row.intent.request.symbol, row.client_order_id)
        if order is None:
            if row.state is IntentState.PENDING:
                after = await self._journal.record_state(
                    row.client_order_id, IntentState.NOT_PLACED, "The exchange never received this order."
                )
                self._publish(after)
                return after
            self._bus.activity(
                Level.ERROR,
                self._gateway.exchange_id,
                f"The exchange no longer knows order {row.client_order_id}, which it had accepted. "
                "It is kept as open in the journal; check the order on the exchange's website.",
            )
            return row
        if _unchanged(row, order):
            return row  # nothing new: no journal write (this runs for every open order on every step)
        after = await self._journal.record_order(row.client_order_id, order)
        if after != row:
            self._publish(after)
        return after

    def _publish(self, row: JournaledOrder) -> None:
        self._bus.publish(OrderUpdated(row))
