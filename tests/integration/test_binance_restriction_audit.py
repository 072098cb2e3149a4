"""Every combination of the restrictions the local exchange reports for its key
(``/sapi/v1/account/apiRestrictions``: withdrawals, IP restriction, margin, futures, spot trading), read by
the real Binance probe through real ccxt, then judged by ``core.permissions.audit``: exactly the expected
warnings, with their severities, and bots blocked exactly when they should be.

The expectations are written out here from the rules' table (``core/permissions.py``), not computed by the
rules themselves.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from cryptobots_desktop.adapters.permission_probes import probe_key
from cryptobots_desktop.core.accounts import Account
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import KeyNotPermitted
from cryptobots_desktop.core.key_permissions import KeyPermissions
from cryptobots_desktop.core.permissions import DAY_MS, Severity, WarningCode, audit, can_start_bot
from cryptobots_desktop.engine.wall_clock import wall_ms
from tests.exchange_server.fixture import ThreadedExchange

W = WarningCode
COMBINATIONS = list(itertools.product((False, True), repeat=5))


def combination_id(combination: tuple[bool, ...]) -> str:
    names = ("withdraw", "ip", "margin", "futures", "trade")
    return "-".join(f"{n}{'+' if on else '-'}" for n, on in zip(names, combination, strict=True))


def probe(exchange: ThreadedExchange, now: int) -> KeyPermissions:
    credentials = ApiCredentials(exchange.key, exchange.secret)
    return asyncio.run(
        probe_key("binance", credentials, now_ms=now, api_url=exchange.base_url, throttle=False)
    )


def judged(permissions: KeyPermissions, now: int) -> tuple[dict[WarningCode, Severity], list[Any], bool]:
    """The audit of an account whose last check read ``permissions``: {code: severity}, the warnings, and
    whether a bot may start on it."""
    credentials = ApiCredentials("abcd1234efgh5678", "s")
    account = Account.create("binance-1", "binance", "Main", credentials, now).with_check(permissions, now)
    warnings = audit(account, now)
    assert [w.severity for w in warnings] == sorted((w.severity for w in warnings), reverse=True)
    return {w.code: w.severity for w in warnings}, warnings, can_start_bot(account, now)[0]


@pytest.mark.parametrize("combination", COMBINATIONS, ids=[combination_id(c) for c in COMBINATIONS])
def test_each_combination_of_restrictions_gives_exactly_its_warnings(
    local_exchange: ThreadedExchange, combination: tuple[bool, bool, bool, bool, bool]
) -> None:
    withdraw, ip, margin, futures, trade = combination
    local_exchange.set_restrictions(
        reset=True,
        enableWithdrawals=withdraw,
        ipRestrict=ip,
        enableMargin=margin,
        enableFutures=futures,
        enableSpotAndMarginTrading=trade,
    )
    now = wall_ms()
    permissions = probe(local_exchange, now)

    # the reading: what the exchange said, field for field; the expiry it did not say stays unknown
    assert (permissions.read, permissions.spot_trade, permissions.withdraw) == (True, trade, withdraw)
    assert (permissions.margin, permissions.futures, permissions.ip_restricted) == (margin, futures, ip)
    assert permissions.expires_ms is None and not permissions.expiry_known
    assert permissions.checked_ms == now and permissions.exchange_id == "binance"

    # the warnings, from the rules' table
    expected = {W.PERMISSIONS_UNKNOWN: Severity.INFO}  # the answer leaves out when the key expires
    if withdraw:
        expected[W.WITHDRAW_ENABLED] = Severity.CRITICAL
    if not trade:
        expected[W.TRADE_DISABLED] = Severity.ERROR
    if not ip:
        expected[W.NO_IP_RESTRICTION] = Severity.WARNING
    if margin or futures:
        expected[W.DERIVATIVES_ENABLED] = Severity.WARNING
    codes, warnings, may_start = judged(permissions, now)
    assert codes == expected
    assert may_start is (trade and not withdraw)  # withdrawals until accepted, and no trading, block bots
    by_code = {w.code: w for w in warnings}
    assert {c for c, w in by_code.items() if w.blocks_bots} == {
        c for c in (W.WITHDRAW_ENABLED, W.TRADE_DISABLED) if c in expected
    }
    if margin or futures:
        title = by_code[W.DERIVATIVES_ENABLED].title
        assert ("margin trading" in title) is margin and ("futures trading" in title) is futures, title
    assert by_code[W.PERMISSIONS_UNKNOWN].fields == ("expiry",)


EXTRAS: dict[str, tuple[dict[str, Any], dict[WarningCode, Severity]]] = {
    # the key's trading authority ends: in 10 days, already, never (0: known, nothing unknown left)
    "expires-in-10-days": (
        {"tradingAuthorityExpirationTime": 10 * DAY_MS},
        {W.KEY_EXPIRES_SOON: Severity.WARNING, W.NO_IP_RESTRICTION: Severity.WARNING},
    ),
    "expired": (
        {"tradingAuthorityExpirationTime": -DAY_MS},
        {W.KEY_EXPIRED: Severity.ERROR, W.NO_IP_RESTRICTION: Severity.WARNING},
    ),
    "never-expires": ({"tradingAuthorityExpirationTime": 0}, {W.NO_IP_RESTRICTION: Severity.WARNING}),
    # portfolio margin grants margin and futures whatever the other two flags say
    "portfolio-margin": (
        {"enablePortfolioMarginTrading": True, "ipRestrict": True},
        {W.DERIVATIVES_ENABLED: Severity.WARNING, W.PERMISSIONS_UNKNOWN: Severity.INFO},
    ),
    # everything a bot needs and nothing more, restricted to this IP, no expiry: not a single warning
    "safe": ({"ipRestrict": True, "tradingAuthorityExpirationTime": 0}, {}),
}


@pytest.mark.parametrize("name", list(EXTRAS))
def test_expiry_and_portfolio_margin_variants(local_exchange: ThreadedExchange, name: str) -> None:
    flags, expected = EXTRAS[name]
    now = wall_ms()
    expiry = flags.get("tradingAuthorityExpirationTime")
    if expiry:  # relative to now: the exchange reports an absolute time
        flags = {**flags, "tradingAuthorityExpirationTime": now + expiry}
    local_exchange.set_restrictions(reset=True, **flags)
    permissions = probe(local_exchange, now)
    codes, warnings, may_start = judged(permissions, now)
    assert codes == expected
    assert may_start is (W.KEY_EXPIRED not in expected)
    if name == "expires-in-10-days":
        assert permissions.expires_ms == now + 10 * DAY_MS
        assert {w.code: w.title for w in warnings}[W.KEY_EXPIRES_SOON] == "The key expires in 10 days"
    if name == "portfolio-margin":
        assert (permissions.margin, permissions.futures) == (True, True)


@pytest.mark.parametrize(
    "flags",
    [
        {"enableReading": False},
        {"ipRestrict": True, "ipWhitelist": ["203.0.113.7"]},
    ],
    ids=["reading-disabled", "ip-not-whitelisted"],
)
def test_a_key_the_exchange_refuses_to_answer_for_gives_no_reading(
    local_exchange: ThreadedExchange, flags: dict[str, Any]
) -> None:
    local_exchange.set_restrictions(reset=True, **flags)
    with pytest.raises(KeyNotPermitted) as refused:
        probe(local_exchange, wall_ms())
    text = str(refused.value)
    assert local_exchange.secret not in text and local_exchange.key not in text
