"""An order request that reaches the exchange late is never sent twice (real ccxt, the local exchange).

The client gives up on a slow order request (a timeout: its fate is unknown) and asks the exchange by
client order id: "no such order" - yet the request is still on its way and is accepted a moment later.
Binance refuses a second order with the same client order id only while the first is open, so a resend
at that point could trade twice. The reconciler believes "no such order" only once the request is older
than the exchange's window for late requests (``recvWindow``): until then the order stays PENDING and
nothing is resent.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest

from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import OrderFateNotYetKnown
from cryptobots_desktop.core.intents import IntentState, JournaledOrder, OrderIntent, client_order_id
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderType
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.order_executor import OrderExecutor
from cryptobots_desktop.engine.wall_clock import WallClock
from tests.exchange_server.fixture import LocalExchange

SYMBOL = "BTC/USDT"
ORDER_PATH = "/api/v3/order"


class SetClock:
    """The account's clock, moved by the test (to let a late-request window pass without waiting)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


def gateway(exchange: LocalExchange, timeout_ms: int = 15_000) -> CcxtGateway:
    credentials = ApiCredentials(exchange.key, exchange.secret)
    return CcxtGateway("binance", credentials, api_url=exchange.base_url, timeout_ms=timeout_ms)


async def resting_buy(gw: CcxtGateway, bot: str, created_ms: int) -> OrderIntent:
    """A limit buy 5 % under the price (it rests, so the exchange keeps it open)."""
    price = (await gw.fetch_ticker(SYMBOL)).last
    below = (await gw.load_markets())[SYMBOL].round_price(price * D("0.95"))
    cid = client_order_id(bot, 1, "b", 0)
    request = OrderRequest(SYMBOL, OrderSide.BUY, OrderType.LIMIT, D("0.001"), cid, below)
    return OrderIntent("binance", bot, 1, "b", 0, request, created_ms=created_ms)


def accepted_posts(exchange: LocalExchange) -> list[dict[str, object]]:
    return [
        r
        for r in exchange.requests()
        if r["method"] == "POST" and r["path"] == ORDER_PATH and r.get("status") == 200
    ]


def test_the_gateway_knows_binances_window_for_late_requests() -> None:
    gw = CcxtGateway("binance", None)
    okx = CcxtGateway("okx", None)
    try:
        assert gw.late_acceptance_s == pytest.approx(10 + 2)  # ccxt's recvWindow, 10 s, and a margin
        assert okx.late_acceptance_s == pytest.approx(30 + 2)  # OKX refuses requests older than 30 s
    finally:
        asyncio.run(gw.close())
        asyncio.run(okx.close())


def test_a_slow_order_request_is_adopted_when_it_lands_never_sent_again(
    local_exchange: LocalExchange, tmp_path: Path
) -> None:
    """The order request takes 2.5 s; the client gives up after 1 s. "No such order" right after is not
    believed: the order stays PENDING, and once the exchange has it, it is adopted - one order."""
    local_exchange.reset(accounts=True)
    local_exchange.add_fault("delay", method="POST", path=ORDER_PATH, delay_ms=2500, count=1)

    async def scenario() -> tuple[JournaledOrder, list[JournaledOrder]]:
        gw = gateway(local_exchange, timeout_ms=1000)
        journal = await SqliteJournal.open(tmp_path / "journal.sqlite3")
        clock = WallClock()
        try:
            executor = OrderExecutor(
                journal, gw, EventBus(), "binance", late_acceptance_s=gw.late_acceptance_s, clock=clock
            )
            intent = await resting_buy(gw, "slow", clock.now_ms())
            first = await executor.place(intent)  # times out, then "no such order" is not yet believed
            seen = []
            for _ in range(40):
                await asyncio.sleep(0.25)
                try:
                    seen.append(await executor.reconciler.reconcile_one(first))
                except OrderFateNotYetKnown:
                    continue
                if seen[-1].state is not IntentState.PENDING:
                    break
            return first, seen
        finally:
            await journal.close()
            await gw.close()

    first, seen = asyncio.run(scenario())
    assert first.state is IntentState.PENDING and first.error and "could not be reached" in first.error
    assert seen and seen[-1].state is IntentState.OPEN  # the late request landed and was adopted
    assert all(row.state is not IntentState.NOT_PLACED for row in seen)
    assert len(accepted_posts(local_exchange)) == 1


def test_without_the_window_a_late_request_would_be_taken_as_never_placed(
    local_exchange: LocalExchange, tmp_path: Path
) -> None:
    """What the window guards against, shown: with none (as for paper), "no such order" while the slow
    request is in flight marks it NOT_PLACED - and then the exchange accepts it anyway."""
    local_exchange.reset(accounts=True)
    local_exchange.add_fault("delay", method="POST", path=ORDER_PATH, delay_ms=2500, count=1)

    async def scenario() -> JournaledOrder:
        gw = gateway(local_exchange, timeout_ms=1000)
        journal = await SqliteJournal.open(tmp_path / "journal.sqlite3")
        try:
            executor = OrderExecutor(journal, gw, EventBus(), "binance")
            row = await executor.place(await resting_buy(gw, "hasty", WallClock().now_ms()))
            await asyncio.sleep(2.5)
            return row
        finally:
            await journal.close()
            await gw.close()

    row = asyncio.run(scenario())
    assert row.state is IntentState.NOT_PLACED  # a retry now would send a second order
    assert len(accepted_posts(local_exchange)) == 1  # ... while the first was accepted after all


def test_a_request_that_never_arrived_is_not_placed_once_the_window_has_passed(
    local_exchange: LocalExchange, tmp_path: Path
) -> None:
    """The connection drops before the exchange handles the request: nothing happened. Within the window
    the order's fate is "not yet known" (nothing is resent); past it, NOT_PLACED, and a retry under the
    same client order id places exactly one order."""
    local_exchange.reset(accounts=True)
    local_exchange.add_fault("drop_before", method="POST", path=ORDER_PATH, count=2)  # aiohttp retries once

    async def scenario() -> tuple[JournaledOrder, str, JournaledOrder, JournaledOrder]:
        gw = gateway(local_exchange)
        journal = await SqliteJournal.open(tmp_path / "journal.sqlite3")
        clock = SetClock(WallClock().now_ms())
        try:
            executor = OrderExecutor(
                journal, gw, EventBus(), "binance", late_acceptance_s=gw.late_acceptance_s, clock=clock
            )
            first = await executor.place(await resting_buy(gw, "gone", clock.ms))
            with pytest.raises(OrderFateNotYetKnown) as early:
                await executor.reconciler.reconcile_one(first)
            clock.ms += 11_000  # still inside Binance's 10 s window and the margin
            with pytest.raises(OrderFateNotYetKnown):
                await executor.reconciler.reconcile_one(first)
            clock.ms += 1_500  # past it: the request can no longer be accepted
            gone = await executor.reconciler.reconcile_one(first)
            local_exchange.clear_faults()  # the connection is back
            again = await executor.retry(gone)
            return first, str(early.value), gone, again
        finally:
            await journal.close()
            await gw.close()

    first, early, gone, again = asyncio.run(scenario())
    assert first.state is IntentState.PENDING
    assert "may still arrive" in early and "nothing is sent again until then" in early
    assert gone.state is IntentState.NOT_PLACED
    assert again.state is IntentState.OPEN and again.client_order_id == first.client_order_id
    assert len(accepted_posts(local_exchange)) == 1


def test_after_a_restart_the_window_counts_from_the_last_resend(
    local_exchange: LocalExchange, tmp_path: Path
) -> None:
    """An order resent just before the app stopped: the next run has no memory of that send, but the journal
    has its time (the retry's PENDING, on the account's clock), so "no such order" right after the restart
    is not believed either - until the window has passed since that resend."""
    local_exchange.reset(accounts=True)
    local_exchange.add_fault("drop_before", method="POST", path=ORDER_PATH, count=None)  # nothing arrives

    async def scenario() -> tuple[JournaledOrder, str, JournaledOrder]:
        gw = gateway(local_exchange)
        journal = await SqliteJournal.open(tmp_path / "journal.sqlite3")
        clock = SetClock(WallClock().now_ms())
        late = gw.late_acceptance_s
        try:
            def executor() -> OrderExecutor:  # one app run's
                return OrderExecutor(journal, gw, EventBus(), "binance", late_acceptance_s=late, clock=clock)

            first_run = executor()
            row = await first_run.place(await resting_buy(gw, "again", clock.ms))
            clock.ms += 60_000  # a minute on: that first send can no longer land
            gone = await first_run.reconciler.reconcile_one(row)
            assert gone.state is IntentState.NOT_PLACED
            resent = await first_run.retry(gone)  # dropped too: its fate is unknown
            assert resent.state is IntentState.PENDING and resent.updated_ms == clock.ms
            # the app stops and starts again 3 s later: a new executor, the same journal
            clock.ms += 3_000
            second_run = executor()
            with pytest.raises(OrderFateNotYetKnown) as early:
                await second_run.reconciler.reconcile_one(resent)
            clock.ms += 10_000  # 13 s after the resend: past Binance's window and the margin
            final = await second_run.reconciler.reconcile_one(resent)
            return resent, str(early.value), final
        finally:
            local_exchange.clear_faults()
            await journal.close()
            await gw.close()

    resent, early, final = asyncio.run(scenario())
    assert "may still arrive" in early
    assert final.state is IntentState.NOT_PLACED and final.client_order_id == resent.client_order_id
    assert accepted_posts(local_exchange) == []
