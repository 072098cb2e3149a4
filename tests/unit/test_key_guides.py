"""core.key_guides: a short, safe guide for every exchange with a probe, and a generic one."""

from __future__ import annotations

import pytest

from cryptobots_desktop.core.key_guides import GENERIC_GUIDE, GUIDES, SAFE_KEY_SUMMARY, guide_for

EXCHANGES = ("binance", "okx", "bybit", "kucoin", "coinbase", "kraken", "gate", "bitget", "htx", "mexc")


@pytest.mark.parametrize("exchange_id", EXCHANGES)
def test_each_guide_says_read_spot_trade_no_withdrawals_and_ip(exchange_id: str) -> None:
    guide = guide_for(exchange_id)
    assert guide.exchange_id == exchange_id and guide is GUIDES[exchange_id]
    text = " ".join(guide.steps).lower()
    assert "withdraw" in text and "ip address" in text and "trad" in text
    assert "futures" in text or "contract" in text or guide.exchange_id in {"coinbase", "htx", "kraken"}
    assert 3 <= len(guide.steps) <= 8 and all(len(step) < 260 for step in guide.steps)


def test_aliases_and_the_generic_guide() -> None:
    assert guide_for("huobi") is GUIDES["htx"] and guide_for("gateio") is GUIDES["gate"]
    assert guide_for(" OKX ") is GUIDES["okx"]
    assert guide_for("someexchange") is GENERIC_GUIDE
    assert "read" in SAFE_KEY_SUMMARY and "Never withdrawals" in SAFE_KEY_SUMMARY
    assert any("recovery phrase" in note for note in GENERIC_GUIDE.notes)


@pytest.mark.parametrize("exchange_id", ["okx", "kucoin", "bitget"])
def test_passphrase_exchanges_say_which_passphrase(exchange_id: str) -> None:
    assert any("passphrase" in note and "not your" in note for note in guide_for(exchange_id).notes)
