"""The Accounts page's one-line key status: never "OK" when what decides a key's safety is not known."""

from __future__ import annotations

from cryptobots_desktop.core.accounts import Account
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions
from cryptobots_desktop.core.permissions import audit
from cryptobots_desktop.engine.events import AccountState
from cryptobots_desktop.gui.accounts_model import status_text

NOW = 1_700_000_000_000
SAFE = {"read": True, "spot_trade": True, "margin": False, "futures": False, "withdraw": False}


def state_after(exchange_id: str, **reading: object) -> AccountState:
    credentials = ApiCredentials("ABCD1234EFGH5678", "s" * 64)
    account = Account.create(f"{exchange_id}-1", exchange_id, "Main", credentials, 1)
    reading_now = KeyPermissions(exchange_id, checked_ms=NOW, **reading)  # type: ignore[arg-type]
    checked = account.with_check(reading_now, NOW)
    return AccountState(checked, tuple(audit(checked, NOW)), connected=True)


def test_a_key_that_reads_and_trades_spot_only_from_one_ip_is_ok() -> None:
    ip = {"ip_restricted": True, "ip_whitelist": ("203.0.113.7",)}
    state = state_after("binance", **SAFE, **ip, expiry_known=True)
    assert status_text(state) == "OK: read and spot trading only"


def test_only_the_expiry_unknown_is_ok_as_far_as_the_exchange_says() -> None:
    state = state_after("binance", **SAFE, ip_restricted=True, ip_whitelist=("203.0.113.7",))
    text = status_text(state)
    assert text == "OK as far as the exchange says; the exchange does not say: when the key expires"


def test_an_exchange_that_says_nothing_is_unknown_never_ok() -> None:
    text = status_text(state_after("mexc"))
    assert text.startswith("Unknown: the exchange does not say what this key may do")
    assert "check it yourself" in text and "OK" not in text


def test_an_unreported_withdrawal_right_is_unknown_never_ok() -> None:
    state = state_after("gate", read=True, spot_trade=True, margin=False, futures=False, ip_restricted=True)
    text = status_text(state)
    assert text.startswith("Unknown: the exchange does not say: ") and "withdraw" in text, text
