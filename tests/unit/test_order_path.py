"""The order path on the real paper exchange and the real SQLite journal: journal first, reply journaled
before anyone hears of it, ambiguous failures reconciled by client order id, nothing sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal as D  # noqa: N817
from pathlib import Path
from typing import Any

import pytest

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.errors import DuplicateClientOrderId
from cryptobots_desktop.core.intents import IntentState, OrderIntent, client_order_id
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderStatus, OrderType
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.events import Event, OrderUpdated
from cryptobots_desktop.engine.order_executor import OrderExecutor
from tests.faults import FaultyGateway

SYMBOL = "BTC/USDT"


@dataclass
class World:
    exchange: PaperExchange
    journal: SqliteJournal
    gateway: FaultyGateway
    executor: OrderExecutor
    events: list[Event]

    async def close(self) -> None:
        await self.journal.close()
        await self.exchange.close()


async def open_world(tmp_path: Path, resources: Path) -> World:
    exchange = await PaperExchange.open(
        market_data_dir=resources / "market_data",
        dataset="binance_spot_2023",
        state_path=tmp_path / "paper.sqlite3",
        starting_balances={"USDT": D(10_000)},
        speed=ReplaySpeed.MAX,  # replay time moves only when a test steps it
    )
    journal = await SqliteJournal.open(tmp_path / "journal.sqlite3")
    gateway = FaultyGateway(exchange)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    return World(exchange, journal, gateway, OrderExecutor(journal, gateway, bus, "paper"), events)


def intent(
    leg: str = "b",
    *,
    attempt: int = 0,
    side: OrderSide = OrderSide.BUY,
    amount: str = "0.01",
    price: str | None = None,
    deal: int = 1,
) -> OrderIntent:
    cid = client_order_id("bot1", deal, leg, attempt)
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    request = OrderRequest(SYMBOL, side, kind, D(amount), cid, None if price is None else D(price))
    return OrderIntent("paper", "bot1", deal, leg, attempt, request, created_ms=0)


def run(tmp_path: Path, resources: Path, scenario: Callable[[World], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        world = await open_world(tmp_path, resources)
        try:
            return await scenario(world)
        finally:
            await world.close()

    return asyncio.run(main())


def test_client_order_ids_are_deterministic_and_exchange_safe() -> None:
    assert client_order_id("A1b2C3", 17, "s3", 0) == "cbA1b2C3-17-s3-0"
    assert client_order_id("A1b2C3", 17, "s3", 0) == client_order_id("A1b2C3", 17, "s3", 0)
    assert len(client_order_id("x" * 12, 10**9, "tp", 999)) <= 36
    with pytest.raises(ValueError):
        client_order_id("bad id", 1, "b", 0)


def test_intent_is_journaled_before_it_is_sent_and_the_reply_before_it_is_announced(
    tmp_path: Path, resources: Path
) -> None:
    async def scenario(w: World) -> None:
        seen_at_send: list[IntentState | None] = []

        async def check(request: OrderRequest) -> None:
            row = await w.journal.get(request.client_order_id)
            seen_at_send.append(None if row is None else row.state)

        w.gateway.on_create = check
        row = await w.executor.place(intent())
        assert seen_at_send == [IntentState.PENDING]
        assert row.state is IntentState.FILLED
        assert row.exchange_order_id
        assert sum(f.amount for f in row.fills) == D("0.01")
        assert await w.journal.get(row.client_order_id) == row
        updates = [e.order for e in w.events if isinstance(e, OrderUpdated)]
        assert updates == [row]

    run(tmp_path, resources, scenario)


def test_reply_lost_after_accept_is_adopted_not_sent_twice(tmp_path: Path, resources: Path) -> None:
    async def scenario(w: World) -> None:
        w.gateway.drop_after = 1
        row = await w.executor.place(intent())
        assert row.state is IntentState.FILLED  # the reconciler found it by client order id
        assert w.gateway.sent == [row.client_order_id]
        at_exchange = await w.exchange.fetch_order(SYMBOL, row.client_order_id)
        assert at_exchange is not None and at_exchange.status is OrderStatus.FILLED
        assert {f.trade_id for f in row.fills} == {f.trade_id for f in at_exchange.fills}
        # sending it again is impossible: the journal refuses the id, and so would the exchange
        with pytest.raises(DuplicateClientOrderId):
            await w.executor.place(intent())
        assert w.gateway.sent == [row.client_order_id]

    run(tmp_path, resources, scenario)


def test_lost_before_reaching_is_not_placed_and_retried_under_the_same_id(
    tmp_path: Path, resources: Path
) -> None:
    async def scenario(w: World) -> None:
        w.gateway.drop_before = 1
        row = await w.executor.place(intent())
        assert row.state is IntentState.NOT_PLACED
        assert w.gateway.sent == []
        assert await w.exchange.fetch_order(SYMBOL, row.client_order_id) is None
        again = await w.executor.retry(row)
        assert again.state is IntentState.FILLED
        assert w.gateway.sent == [row.client_order_id]

    run(tmp_path, resources, scenario)


def test_exchange_unreachable_for_the_check_leaves_pending_until_reconciled(
    tmp_path: Path, resources: Path
) -> None:
    async def scenario(w: World) -> None:
        w.gateway.drop_after = 1
        w.gateway.fetch_fails = 1
        row = await w.executor.place(intent())
        assert row.state is IntentState.PENDING  # fate unknown: nothing more is sent for it
        report = await w.executor.reconciler.reconcile_all()
        assert [r.state for r in report.updated] == [IntentState.FILLED]
        assert w.gateway.sent == [row.client_order_id]

    run(tmp_path, resources, scenario)


def test_rejection_is_journaled_with_the_exchanges_reason(tmp_path: Path, resources: Path) -> None:
    async def scenario(w: World) -> None:
        row = await w.executor.place(intent(amount="0.000001"))
        assert row.state is IntentState.REJECTED
        assert row.error is not None and "minimum" in row.error
        assert await w.exchange.fetch_order(SYMBOL, row.client_order_id) is None
        assert (
            await w.executor.reconciler.reconcile_all() == type(await w.executor.reconciler.reconcile_all())()
        )

    run(tmp_path, resources, scenario)


def test_resting_order_fills_are_picked_up_and_cancel_releases_funds(tmp_path: Path, resources: Path) -> None:
    async def scenario(w: World) -> None:
        price = (await w.exchange.fetch_ticker(SYMBOL)).last
        near = await w.executor.place(intent("s1", price=str((price * D("0.999")).quantize(D("0.01")))))
        far = await w.executor.place(intent("s2", price=str((price * D("0.5")).quantize(D("0.01")))))
        assert near.state is far.state is IntentState.OPEN
        for _ in range(600):  # up to 10 hours of real April 2023 minutes, until BTC dips 0.1 %
            w.exchange.replay.step(60_000)
            near = await w.executor.reconciler.reconcile_one(near)
            if near.state is IntentState.FILLED:
                break
        assert near.state is IntentState.FILLED
        assert sum(f.amount for f in near.fills) == D("0.01")
        assert all(f.is_maker for f in near.fills)
        canceled = await w.executor.cancel(far)
        assert canceled.state is IntentState.CANCELED
        usdt = (await w.exchange.fetch_balances())["USDT"]
        assert usdt.used == 0

    run(tmp_path, resources, scenario)


def test_crash_before_send_and_crash_after_send_are_both_resolved_at_restart(
    tmp_path: Path, resources: Path
) -> None:
    before, after = intent("b", deal=1), intent("b", deal=2)

    async def crashed_session() -> None:
        w = await open_world(tmp_path, resources)
        await w.journal.record_intent(before)  # journaled, then the app died before sending
        await w.journal.record_intent(after)
        await w.exchange.create_order(after.request)  # sent and accepted, then died before journaling it
        await w.close()

    async def next_session() -> None:
        w = await open_world(tmp_path, resources)
        try:
            report = await w.executor.reconciler.reconcile_all()
            assert [r.client_order_id for r in report.not_placed] == [before.client_order_id]
            assert [(r.client_order_id, r.state) for r in report.updated] == [
                (after.client_order_id, IntentState.FILLED)
            ]
            retried = await w.executor.retry(report.not_placed[0])
            assert retried.state is IntentState.FILLED
            open_rows = await w.journal.needing_reconciliation("paper")
            assert open_rows == []
            # exactly one order per client order id at the exchange
            for cid in (before.client_order_id, after.client_order_id):
                assert (await w.exchange.fetch_order(SYMBOL, cid)) is not None
            assert w.gateway.sent == [before.client_order_id]
        finally:
            await w.close()

    asyncio.run(crashed_session())
    asyncio.run(next_session())


def test_the_late_request_window_keeps_no_memory_of_answered_orders(tmp_path: Path, resources: Path) -> None:
    """The executor notes each send for the late-request window; an order the exchange answered (accepted or
    refused) is forgotten there, so a long-running bot's bookkeeping does not grow with every order."""

    async def scenario(world: World) -> tuple[int, int, IntentState]:
        clock = world.exchange.replay
        executor = OrderExecutor(
            world.journal, world.gateway, EventBus(), "paper", late_acceptance_s=12, clock=clock
        )
        for n in range(1, 6):
            await executor.place(intent("b", deal=n))
        refused = await executor.place(intent("b", deal=9, amount="0.0000001"))  # under the minimum
        sent_after = len(executor.reconciler._sent)
        return sent_after, n, refused.state

    sent_after, placed, refused = run(tmp_path, resources, scenario)
    assert placed == 5 and refused is IntentState.REJECTED
    assert sent_after == 0
