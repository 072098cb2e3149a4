"""core.permissions: every combination of what a key may do gives exactly the warnings the rules say."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptobots_desktop.core.accounts import Account
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions
from cryptobots_desktop.core.permissions import (
    DAY_MS,
    WITHDRAWAL_RISK_TEXT,
    KeyWarning,
    Severity,
    WarningCode,
    audit,
    audit_permissions,
    can_start_bot,
    needs_risk_acceptance,
    worst,
)

NOW = 1_700_000_000_000
TRI = (True, False, None)
CAPS = ("read", "spot_trade", "margin", "futures", "withdraw", "ip_restricted")
EXPIRIES = {
    "unknown": {"expires_ms": None, "expiry_known": False},
    "never": {"expires_ms": None, "expiry_known": True},
    "expired": {"expires_ms": NOW - 1, "expiry_known": True},
    "today": {"expires_ms": NOW + 3_600_000, "expiry_known": True},
    "in_14_days": {"expires_ms": NOW + 14 * DAY_MS, "expiry_known": True},
    "in_15_days": {"expires_ms": NOW + 15 * DAY_MS, "expiry_known": True},
}


def account(permissions: KeyPermissions | None = None, label: str = "Binance main") -> Account:
    base = Account.create("binance-1", "binance", label, ApiCredentials("ABCD1234EFGH5678", "s" * 64), 1)
    return base if permissions is None else base.with_check(permissions, NOW)


def perms(**kw: object) -> KeyPermissions:
    return KeyPermissions("binance", **kw)  # type: ignore[arg-type]


SAFE = perms(
    read=True,
    spot_trade=True,
    margin=False,
    futures=False,
    withdraw=False,
    ip_restricted=True,
    expiry_known=True,
)


def codes(warnings: list[KeyWarning]) -> set[WarningCode]:
    return {w.code for w in warnings}


def test_a_safe_key_gives_no_warning_and_may_start_bots() -> None:
    assert audit(account(SAFE), NOW) == []
    assert can_start_bot(account(SAFE), NOW) == (True, "")
    assert worst([]) is None


def test_a_key_never_checked_blocks_bots() -> None:
    warnings = audit(account(), NOW)
    assert codes(warnings) == {WarningCode.NOT_CHECKED}
    ok, reason = can_start_bot(account(), NOW)
    assert not ok and "not been checked" in reason


def test_every_combination_of_capabilities_expiry_and_acceptance() -> None:
    """3^6 capability readings x 6 expiry states x 3 acceptance states, each checked rule by rule."""
    checked = 0
    for values in itertools.product(TRI, repeat=len(CAPS)):
        caps = dict(zip(CAPS, values, strict=True))
        for expiry_name, expiry in EXPIRIES.items():
            reading = perms(**caps, **expiry)
            for acceptance in ("none", "covering", "stale"):
                acct = account(reading)
                if acceptance == "covering":
                    acct = acct.accept_risk("Binance main", NOW)
                elif acceptance == "stale":
                    narrower = replace(reading, withdraw=True, read=None, spot_trade=None, margin=None)
                    narrower = replace(narrower, futures=None, ip_restricted=None)
                    acct = replace(
                        account(narrower).accept_risk("Binance main", NOW - 1), permissions=reading
                    )
                _check_rules(acct, reading, expiry_name, acceptance)
                checked += 1
    assert checked == 3**6 * len(EXPIRIES) * 3


def _check_rules(acct: Account, p: KeyPermissions, expiry: str, acceptance: str) -> None:
    warnings = audit(acct, NOW)
    found = {w.code: w for w in warnings}
    expected: dict[WarningCode, Severity] = {}
    if p.withdraw is True:
        expected[WarningCode.WITHDRAW_ENABLED] = Severity.CRITICAL
    if p.read is False:
        expected[WarningCode.READ_DISABLED] = Severity.ERROR
    if p.spot_trade is False:
        expected[WarningCode.TRADE_DISABLED] = Severity.ERROR
    if p.ip_restricted is False:
        expected[WarningCode.NO_IP_RESTRICTION] = Severity.WARNING
    if p.margin is True or p.futures is True:
        expected[WarningCode.DERIVATIVES_ENABLED] = Severity.WARNING
    if expiry == "expired":
        expected[WarningCode.KEY_EXPIRED] = Severity.ERROR
    if expiry in {"today", "in_14_days"}:
        expected[WarningCode.KEY_EXPIRES_SOON] = Severity.WARNING
    unknown = [c for c in CAPS if getattr(p, c) is None] + (["expiry"] if expiry == "unknown" else [])
    if unknown:
        expected[WarningCode.PERMISSIONS_UNKNOWN] = Severity.INFO
    assert {c: w.severity for c, w in found.items()} == expected, (p, expiry, acceptance)
    if unknown:
        assert set(found[WarningCode.PERMISSIONS_UNKNOWN].fields) == set(unknown)
    # worst first; every warning says what it is, why, and what to do
    assert [w.severity for w in warnings] == sorted((w.severity for w in warnings), reverse=True)
    assert all(w.title and w.explanation and w.action for w in warnings)
    # bots start only without a withdrawal risk nobody accepted, with read and trade not refused, unexpired
    covered = acceptance == "covering" or (acceptance == "stale" and not p.widened_since(_stale(p)))
    blocked = (
        (p.withdraw is True and not covered)
        or p.read is False
        or p.spot_trade is False
        or expiry == "expired"
    )
    ok, reason = can_start_bot(acct, NOW)
    assert ok is (not blocked), (p, expiry, acceptance)
    assert bool(reason) is blocked
    assert needs_risk_acceptance(acct) is (p.withdraw is True and not covered)


def _stale(p: KeyPermissions) -> KeyPermissions:
    return replace(
        p, withdraw=True, read=None, spot_trade=None, margin=None, futures=None, ip_restricted=None
    )


@pytest.mark.parametrize(
    ("reading", "code", "severity", "blocks"),
    [
        (replace(SAFE, withdraw=True), WarningCode.WITHDRAW_ENABLED, Severity.CRITICAL, True),
        (replace(SAFE, spot_trade=False), WarningCode.TRADE_DISABLED, Severity.ERROR, True),
        (replace(SAFE, read=False), WarningCode.READ_DISABLED, Severity.ERROR, True),
        (replace(SAFE, ip_restricted=False), WarningCode.NO_IP_RESTRICTION, Severity.WARNING, False),
        (replace(SAFE, futures=True), WarningCode.DERIVATIVES_ENABLED, Severity.WARNING, False),
        (replace(SAFE, margin=True), WarningCode.DERIVATIVES_ENABLED, Severity.WARNING, False),
        (replace(SAFE, expires_ms=NOW + 2 * DAY_MS), WarningCode.KEY_EXPIRES_SOON, Severity.WARNING, False),
        (replace(SAFE, expires_ms=NOW), WarningCode.KEY_EXPIRED, Severity.ERROR, True),
        (replace(SAFE, ip_restricted=None), WarningCode.PERMISSIONS_UNKNOWN, Severity.INFO, False),
        (replace(SAFE, expiry_known=False), WarningCode.PERMISSIONS_UNKNOWN, Severity.INFO, False),
    ],
)
def test_each_rule_alone(
    reading: KeyPermissions, code: WarningCode, severity: Severity, blocks: bool
) -> None:
    warnings = audit(account(reading), NOW)
    assert [(w.code, w.severity, w.blocks_bots) for w in warnings] == [(code, severity, blocks)]
    assert warnings[0].show_guide
    assert can_start_bot(account(reading), NOW)[0] is not blocks


def test_expiry_counts_whole_days() -> None:
    [w] = audit_permissions(replace(SAFE, expires_ms=NOW + 2 * DAY_MS + 1), NOW)
    assert w.title == "The key expires in 3 days"
    [w] = audit_permissions(replace(SAFE, expires_ms=NOW + 60_000), NOW)
    assert w.title == "The key expires in 1 day"


def test_derivatives_are_fine_when_not_spot_only() -> None:
    assert audit(account(replace(SAFE, futures=True, margin=True)), NOW, spot_only=False) == []


def test_a_fully_unknown_key_says_so_and_is_never_shown_as_safe() -> None:
    mexc = KeyPermissions("mexc")
    [w] = audit(account(mexc), NOW)
    assert w.code is WarningCode.PERMISSIONS_UNKNOWN and w.severity is Severity.INFO and w.show_guide
    assert "does not say" in w.title and "not mean the key is safe" in w.explanation
    assert "Check it yourself" in w.action
    assert can_start_bot(account(mexc), NOW) == (True, "")


def test_withdrawal_blocks_until_the_label_is_typed() -> None:
    risky = account(replace(SAFE, withdraw=True))
    ok, reason = can_start_bot(risky, NOW)
    assert not ok and "withdraw" in reason
    accepted = risky.accept_risk("  Binance main ", NOW + 5)
    assert accepted.risk_acceptance is not None and accepted.risk_acceptance.accepted_ms == NOW + 5
    assert accepted.risk_acceptance.permissions == risky.permissions
    assert can_start_bot(accepted, NOW) == (True, "")
    [w] = audit(accepted, NOW)
    assert w.code is WarningCode.WITHDRAW_ENABLED and w.severity is Severity.CRITICAL and not w.blocks_bots
    assert "risk accepted" in w.title


def test_a_key_that_widened_since_acceptance_needs_a_new_acceptance() -> None:
    accepted = account(replace(SAFE, withdraw=True)).accept_risk("Binance main", NOW)
    wider = accepted.with_check(replace(SAFE, withdraw=True, futures=True), NOW + 1)
    assert not can_start_bot(wider, NOW + 1)[0]
    withdraw = next(w for w in audit(wider, NOW + 1) if w.code is WarningCode.WITHDRAW_ENABLED)
    assert withdraw.blocks_bots and "futures trading" in withdraw.explanation
    assert can_start_bot(wider.accept_risk("Binance main", NOW + 2), NOW + 2)[0]
    # a narrower key stays covered
    narrower = accepted.with_check(replace(SAFE, withdraw=True, read=None), NOW + 3)
    assert can_start_bot(narrower, NOW + 3)[0]


def test_widening_between_checks_is_flagged_until_acknowledged() -> None:
    acct = account(SAFE).with_check(replace(SAFE, ip_restricted=False, futures=True), NOW + 1)
    assert acct.widened == ("futures", "ip_unrestricted")
    flag = next(w for w in audit(acct, NOW) if w.code is WarningCode.PERMISSIONS_WIDENED)
    assert flag.severity is Severity.WARNING and flag.fields == ("futures", "ip_unrestricted")
    assert "futures trading" in flag.explanation and "use from any IP address" in flag.explanation
    # the flag survives the next check while the rights remain, drops rights no longer granted
    again = acct.with_check(replace(SAFE, futures=True), NOW + 2)
    assert again.widened == ("futures",)
    assert WarningCode.PERMISSIONS_WIDENED not in codes(audit(again.acknowledge_widening(), NOW))


def test_withdrawal_risk_text_says_what_it_means() -> None:
    for words in ("withdraw", "leaks", "cannot", "type the account's name", "asked again"):
        assert words in WITHDRAWAL_RISK_TEXT.replace("nobody can reverse", "cannot")


readings = st.builds(
    KeyPermissions,
    exchange_id=st.just("binance"),
    read=st.sampled_from(TRI),
    spot_trade=st.sampled_from(TRI),
    margin=st.sampled_from(TRI),
    futures=st.sampled_from(TRI),
    withdraw=st.sampled_from(TRI),
    ip_restricted=st.sampled_from(TRI),
    expires_ms=st.none() | st.integers(NOW - 100 * DAY_MS, NOW + 100 * DAY_MS),
    expiry_known=st.booleans(),
)


@given(first=readings, second=readings)
def test_acceptance_covers_exactly_what_did_not_widen(first: KeyPermissions, second: KeyPermissions) -> None:
    accepted = account(first).accept_risk("Binance main", NOW)
    later = accepted.with_check(second, NOW + 1)
    assert accepted.risk_acceptance is not None
    assert accepted.risk_acceptance.covers(second) is (not second.widened_since(first))
    withdraw_blocks = any(
        w.blocks_bots for w in audit(later, NOW + 1) if w.code is WarningCode.WITHDRAW_ENABLED
    )
    assert withdraw_blocks is (second.withdraw is True and bool(second.widened_since(first)))
    assert set(later.widened) == set(second.widened_since(first))


@given(reading=readings)
def test_unknown_is_never_silent(reading: KeyPermissions) -> None:
    warnings = audit(account(reading), NOW)
    has_unknown = any(getattr(reading, c) is None for c in CAPS)
    if has_unknown:
        assert WarningCode.PERMISSIONS_UNKNOWN in codes(warnings)
    assert (worst(warnings) is None) is (warnings == [])
