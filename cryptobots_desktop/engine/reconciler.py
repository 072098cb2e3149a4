"""The reconciler: makes the journal agree with the exchange, by client order id.

It runs at start (for every PENDING or OPEN intent of an account) and after any ambiguous failure. For each
intent it asks the exchange for the order with that client order id: found, the journal adopts what the
exchange says (state, exchange id, fills); absent, a PENDING intent is marked NOT_PLACED, so a retry may
send it again under the same id.

"Absent" is believed only once the request that sent it can no longer be accepted: a request delayed in
the network may reach the exchange after the answer "no such order", and an exchange refuses a second
order with the same client order id only while the first is open (Binance), so a resend then could trade
twice. Exchanges refuse requests older than a window (Binance's ``recvWindow``, OKX's 30 s): until the
order's last send is older than ``late_acceptance_s`` on the account's clock, its fate is "not yet known"
(:class:`OrderFateNotYetKnown`) and nothing is resent. The last send is the one this run made, or for an
order sent before a restart, when it was last journaled as PENDING (its intent, or a retry: each is
written just before its send).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptobots_desktop.core.errors import ExchangeError, OrderFateNotYetKnown
from cryptobots_desktop.core.intents import IntentState, JournaledOrder
from cryptobots_desktop.core.orders import Order
from cryptobots_desktop.core.ports import Clock, ExchangeGateway, Journal
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
        """``clock``: the account's (wall time live); needed when ``late_acceptance_s`` is above 0."""
        if late_acceptance_s > 0 and clock is None:
            raise ValueError("a late-acceptance window needs the account's clock")
        self._journal = journal
        self._gateway = gateway
        self._bus = bus
        self.account_id = account_id
        self.late_acceptance_s = late_acceptance_s
        self._clock = clock
        self._sent: dict[str, int] = {}  # client order id -> when this run last sent it (ms)

    def note_sending(self, client_order_id: str) -> None:
        """The executor is about to send this order (again): its fate is unknown for a while from now."""
        if self._clock is not None and self.late_acceptance_s > 0:
            self._sent[client_order_id] = self._clock.now_ms()

    def note_settled(self, client_order_id: str) -> None:
        """The exchange answered for this order (accepted or refused it): no send of it is in doubt."""
        self._sent.pop(client_order_id, None)

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
                if self._clock is not None and self.late_acceptance_s > 0:
                    # this run's last send, else the last one journaled (its intent, or a retry's PENDING)
                    sent = max(self._sent.get(row.client_order_id, 0), row.intent.created_ms, row.updated_ms)
                    left_ms = sent + self.late_acceptance_s * 1000 - self._clock.now_ms()
                    if left_ms > 0:
                        raise OrderFateNotYetKnown(row.client_order_id, left_ms / 1000)
                    self._sent.pop(row.client_order_id, None)
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
        self.note_settled(row.client_order_id)
        if _unchanged(row, order):
            return row  # nothing new: no journal write (this runs for every open order on every step)
        after = await self._journal.record_order(row.client_order_id, order)
        if after != row:
            self._publish(after)
        return after

    def _publish(self, row: JournaledOrder) -> None:
        self._bus.publish(OrderUpdated(row))
