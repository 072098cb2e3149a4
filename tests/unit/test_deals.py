"""Deals: position, average entry and profit/loss with fees, computed by hand."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817 - short money literals read better in tables

import pytest

from cryptobots_desktop.core.deals import Deal
from cryptobots_desktop.core.orders import Fill, OrderSide


def fill(side: OrderSide, price: str, amount: str, fee: str, fee_asset: str, ts: int = 0) -> Fill:
    return Fill(f"t{ts}", f"c{ts}", "BTC/USDT", side, D(price), D(amount), D(fee), fee_asset, ts, True)


BUY, SELL = OrderSide.BUY, OrderSide.SELL
# two buys, 0.1 % fee taken in BTC: 0.001 at 30000 (fee 0.000001 BTC), 0.002 at 29000 (fee 0.000002 BTC)
BUYS = (fill(BUY, "30000", "0.001", "0.000001", "BTC", 1), fill(BUY, "29000", "0.002", "0.000002", "BTC", 2))


def test_open_deal_position_and_unrealised_pnl() -> None:
    deal = Deal("d1", "bot1", "BTC/USDT", 1, BUYS)
    # bought 0.003 − 0.000003 = 0.002997 BTC for 30 + 58 = 88 USDT
    assert (deal.base_bought, deal.quote_spent) == (D("0.002997"), D(88))
    assert deal.average_entry_price == D(88) / D("0.002997")  # 29362.69…
    assert (deal.base_held, deal.realised_pnl) == (D("0.002997"), 0)
    # at 30000: 0.002997 × 30000 = 89.91 − 88 = 1.91; with the 0.1 % sell fee 89.82009 − 88 = 1.82009
    assert deal.unrealised_pnl(D(30000)) == D("1.91")
    assert deal.unrealised_pnl(D(30000), D("0.001")) == D("1.82009")
    assert deal.total_pnl_pct(D(30000), D("0.001")) == D("1.82009") / 88 * 100  # 2.0683 %
    # fees: 0.000001 × 30000 + 0.000002 × 29000 = 0.03 + 0.058 = 0.088 USDT
    assert deal.fees_in_quote == D("0.088")
    assert not deal.is_closed


def test_closed_deal_realised_pnl_with_sell_fee_in_quote() -> None:
    # sell all 0.002997 BTC at 30000 = 89.91 USDT, fee 0.1 % = 0.08991 USDT → 89.82009 received
    sell = fill(SELL, "30000", "0.002997", "0.08991", "USDT", 3)
    deal = Deal("d1", "bot1", "BTC/USDT", 1, BUYS).with_fill(sell).closed_at(3)
    assert deal.is_closed and deal.closed_ms == 3
    assert (deal.base_held, deal.quote_received) == (0, D("89.82009"))
    assert deal.realised_pnl == D("1.82009")  # 89.82009 − 88
    assert deal.unrealised_pnl(D(1)) == 0
    assert deal.total_pnl(D(1)) == D("1.82009")
    assert deal.total_pnl_pct(D(1)) == D("1.82009") / 88 * 100
    assert deal.fees_in_quote == D("0.17791")  # 0.088 + 0.08991


def test_partly_sold_deal_splits_realised_and_unrealised() -> None:
    # sell 0.001 BTC at 31000 = 31 USDT, fee 0.031 → 30.969 received; its cost 0.001 × 88/0.002997
    sell = fill(SELL, "31000", "0.001", "0.031", "USDT", 3)
    deal = Deal("d1", "bot1", "BTC/USDT", 1, BUYS, (sell,))
    entry = D(88) / D("0.002997")
    assert deal.base_held == D("0.001997")
    assert deal.realised_pnl == D("30.969") - D("0.001") * entry  # ≈ 1.6063
    # the 0.001997 BTC left, at 29000: 57.913 − 0.001997 × 29362.69… ≈ −0.7243
    assert deal.unrealised_pnl(D(29000)) == D("0.001997") * 29000 - D("0.001997") * entry
    assert deal.total_pnl(D(29000)) == deal.realised_pnl + deal.unrealised_pnl(D(29000))


def test_fees_in_a_third_asset_stay_out_of_the_pnl() -> None:
    buy = Fill("t1", "c1", "BTC/USDT", BUY, D(30000), D("0.001"), D("0.0001"), "BNB", 1, False)
    deal = Deal("d1", "bot1", "BTC/USDT", 1).with_fill(buy)
    assert (deal.base_bought, deal.quote_spent, deal.average_entry_price) == (D("0.001"), 30, 30000)
    assert deal.other_fees == {"BNB": D("0.0001")}
    assert deal.fees_in_quote == 0


def test_empty_deal_and_quote_fees_on_buys() -> None:
    deal = Deal("d1", "bot1", "BTC/USDT", 1)
    assert (deal.average_entry_price, deal.total_pnl_pct(D(1)), deal.realised_pnl) == (None, None, 0)
    # an exchange that takes the buy fee in quote: 0.001 BTC at 30000 + 0.03 USDT fee
    deal = deal.with_fill(fill(BUY, "30000", "0.001", "0.03", "USDT"))
    assert (deal.base_bought, deal.quote_spent, deal.average_entry_price) == (
        D("0.001"),
        D("30.03"),
        D(30030),
    )


def test_fills_must_match_the_deal() -> None:
    with pytest.raises(ValueError, match="not a buy of BTC/USDT"):
        Deal("d1", "bot1", "BTC/USDT", 1, (fill(SELL, "1", "1", "0", "USDT"),))
    other = Fill("t1", "c1", "ETH/USDT", BUY, D(1), D(1), D(0), "ETH", 1, True)
    with pytest.raises(ValueError, match="not a buy of BTC/USDT"):
        Deal("d1", "bot1", "BTC/USDT", 1, (other,))
    with pytest.raises(ValueError, match="not a pair symbol"):
        Deal("d1", "bot1", "BTCUSDT", 1)
