"""How the journal lets an intent's state move (pure functions, no I/O).

Set by ``record_state`` (what the exchange did not report as an order):

    PENDING    -> PENDING (noting an ambiguous failure), REJECTED, NOT_PLACED
    NOT_PLACED -> PENDING (a retry under the same client order id), NOT_PLACED
    REJECTED   -> REJECTED (a repeat)

anything else raises ``ValueError`` (OPEN, FILLED and CANCELED come only from the exchange's report).

Set by ``record_order`` (the exchange's report of the order, ``core.intents.merge_order``): the report's
state, exchange id and every fill not yet journaled (by trade id). A final state (FILLED, CANCELED,
REJECTED) is kept against any later report, e.g. a stale OPEN; the fills such a report carries are still
added, since a fill is a fact. ``updated_ms`` never goes backwards.
"""

from __future__ import annotations

from dataclasses import replace

from cryptobots_desktop.core.intents import IntentState, JournaledOrder, merge_order
from cryptobots_desktop.core.orders import Fill, Order

_S = IntentState
SETTABLE: dict[IntentState, frozenset[IntentState]] = {
    _S.PENDING: frozenset({_S.PENDING, _S.REJECTED, _S.NOT_PLACED}),
    _S.NOT_PLACED: frozenset({_S.PENDING, _S.NOT_PLACED}),
    _S.REJECTED: frozenset({_S.REJECTED}),
}


def check_set_state(client_order_id: str, current: IntentState, new: IntentState) -> None:
    """Raise ``ValueError`` unless ``record_state`` may move ``current`` to ``new``."""
    if new in SETTABLE.get(current, frozenset()):
        return
    why = (
        "only the exchange's report of the order sets it"
        if new in (_S.OPEN, _S.FILLED, _S.CANCELED)
        else f"a {current.value} order can't become {new.value}"
    )
    raise ValueError(f"order {client_order_id}: not set to {new.value}: {why}")


def after_report(current: JournaledOrder, order: Order) -> JournaledOrder:
    """The journal row once ``order`` is recorded (``ValueError`` if the report is of another order)."""
    cid, request = current.client_order_id, current.intent.request
    if order.client_order_id != cid or order.symbol != request.symbol or order.side is not request.side:
        raise ValueError(
            f"order {cid} ({request.side.value} {request.symbol}) can't record the exchange's report of "
            f"order {order.client_order_id} ({order.side.value} {order.symbol})"
        )
    unique: dict[str, Fill] = {}
    for f in order.fills:
        if f.client_order_id != cid or f.symbol != request.symbol or f.side is not request.side:
            raise ValueError(f"order {cid}: fill {f.trade_id} belongs to order {f.client_order_id}")
        unique.setdefault(f.trade_id, f)
    merged = merge_order(current, replace(order, fills=tuple(unique.values())))
    if current.state.is_final:
        merged = replace(
            merged,
            state=current.state,
            error=current.error,
            exchange_order_id=current.exchange_order_id or merged.exchange_order_id,
        )
    return replace(merged, updated_ms=max(current.updated_ms, merged.updated_ms))
