"""Permission probes with real ccxt against tests/probe_servers: for each exchange, its documented answer
and variants read into exactly the ``KeyPermissions`` that ../shared/design/key-permissions.md gives
(absent or unconfirmed -> unknown), and every refusal ending in the right domain error, secrets unshown."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from cryptobots_desktop.adapters.ccxt_errors import PASSPHRASE_HINT
from cryptobots_desktop.adapters.ccxt_gateway import UnknownExchange
from cryptobots_desktop.adapters.permission_probes import PROBED_EXCHANGES, probe_for, probe_key
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import (
    AuthenticationFailed,
    ClockOutOfSync,
    ExchangeError,
    ExchangeUnavailable,
    KeyNotPermitted,
    RateLimited,
)
from cryptobots_desktop.core.key_permissions import KeyPermissions
from tests.probe_servers.fixture import (
    COINBASE_KEY,
    KEY,
    KRAKEN_SECRET,
    NEEDS_PASSPHRASE,
    PASSPHRASE,
    SECRET,
    coinbase_key_pair,
    probe_servers,
    probe_servers_session,
)
from tests.probe_servers.server import ProbeServer

__all__ = ["probe_servers", "probe_servers_session"]  # the fixtures, imported for pytest

NOW_MS = 1_750_000_000_000
DAY_MS = 86_400_000
T, F, U = True, False, None  # U: unknown
TRADER_IPS = ("203.0.113.7",)
BYBIT_EXPIRES = int(datetime(2033, 5, 15, 3, 21, 5, tzinfo=UTC).timestamp() * 1000)
BYBIT_EXPIRED = int(datetime(2023, 5, 15, 3, 21, 5, tzinfo=UTC).timestamp() * 1000)


def perms(
    read: bool | None = U,
    spot: bool | None = U,
    margin: bool | None = U,
    futures: bool | None = U,
    withdraw: bool | None = U,
    ip: bool | None = U,
    ips: tuple[str, ...] = (),
    expires_ms: int | None = None,
    expiry_known: bool = False,
) -> dict[str, Any]:
    return {
        "read": read,
        "spot_trade": spot,
        "margin": margin,
        "futures": futures,
        "withdraw": withdraw,
        "ip_restricted": ip,
        "ip_whitelist": ips,
        "expires_ms": expires_ms,
        "expiry_known": expiry_known,
    }


# (exchange, variant) -> what the table in key-permissions.md says the answer means
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    # Binance: portfolio margin (documented example: true) grants margin and futures
    ("binance", "documented"): perms(T, F, T, T, F, F),
    ("binance", "safe"): perms(T, T, F, F, F, T),
    ("binance", "withdraw"): perms(T, T, T, T, T, T),
    ("binance", "read_only"): perms(T, F, F, F, F, F),
    ("binance", "futures"): perms(T, F, F, T, F, F),
    ("binance", "expiring"): perms(T, T, F, F, F, F, expires_ms=1_628_985_600_000, expiry_known=True),
    ("binance", "missing"): perms(T, F, T, T, U, U),
    # OKX: acctLv >= 2 lets a trading key use margin and derivatives; ip "" = none
    ("okx", "documented"): perms(T, T, T, T, T, F),
    ("okx", "safe"): perms(T, T, F, F, F, T, ("203.0.113.7", "198.51.100.2")),
    ("okx", "read_only"): perms(T, F, F, F, F, F),
    ("okx", "missing"): perms(),
    # Bybit: ips ["*"] unconfirmed -> unknown; spot margin has no key flag -> unknown
    ("bybit", "documented"): perms(T, T, U, T, F, U, expires_ms=BYBIT_EXPIRES, expiry_known=True),
    ("bybit", "safe"): perms(T, T, U, F, F, T, TRADER_IPS),
    ("bybit", "withdraw"): perms(T, T, U, T, T, U, expires_ms=BYBIT_EXPIRES, expiry_known=True),
    ("bybit", "read_only"): perms(T, F, F, F, F, U, expires_ms=BYBIT_EXPIRES, expiry_known=True),
    ("bybit", "expired"): perms(T, T, U, T, F, U, expires_ms=BYBIT_EXPIRED, expiry_known=True),
    ("bybit", "deadline_only"): perms(T, T, U, T, F, U, expires_ms=NOW_MS + 83 * DAY_MS, expiry_known=True),
    ("bybit", "missing"): perms(read=T),
    # KuCoin: "Transfer" is withdrawals; an empty ipWhitelist is unconfirmed -> unknown
    ("kucoin", "documented"): perms(T, T, T, T, T, T, ("203.**.154", "103.**.34")),
    ("kucoin", "safe"): perms(T, T, F, F, F, T, TRADER_IPS),
    ("kucoin", "read_only"): perms(T, F, F, F, F, U),
    ("kucoin", "legacy_trade"): perms(T, T, U, F, F, U),
    ("kucoin", "missing"): perms(),
    # Coinbase: no IPs, margin, futures or expiry reported
    ("coinbase", "documented"): perms(read=T, spot=T, withdraw=F),
    ("coinbase", "withdraw"): perms(read=T, spot=T, withdraw=T),
    ("coinbase", "read_only"): perms(read=T, spot=F, withdraw=F),
    ("coinbase", "missing"): perms(),
    # Kraken: validUntil "0" = never; margin and futures not reported
    ("kraken", "documented"): perms(read=T, spot=T, withdraw=T, ip=F, expiry_known=True),
    ("kraken", "safe"): perms(read=T, spot=T, withdraw=F, ip=T, ips=TRADER_IPS, expiry_known=True),
    ("kraken", "read_only"): perms(read=T, spot=F, withdraw=F, ip=F, expiry_known=True),
    ("kraken", "expiring"): perms(
        read=T, spot=T, withdraw=T, ip=F, expires_ms=2_000_000_000_000, expiry_known=True
    ),
    ("kraken", "missing"): perms(),
    # Gate: withdrawals never known; "spot" covers spot and margin; perms only of this very key
    ("gate", "documented"): perms(T, T, U, F, U, F),
    ("gate", "safe"): perms(T, T, U, F, U, T, TRADER_IPS),
    ("gate", "derivatives"): perms(T, T, T, T, U, F),
    ("gate", "read_only"): perms(T, F, F, F, U, F),
    ("gate", "several_keys"): perms(T, F, F, F, U, F),
    ("gate", "unmatched"): perms(ip=F),
    ("gate", "missing"): perms(),
    ("gate", "main_keys_forbidden"): perms(ip=T, ips=TRADER_IPS),
    # Bitget: the documented ["trade", "readonly"] tells nothing of withdrawals, margin, futures
    ("bitget", "documented"): perms(T, T, U, U, U, T, ("127.0.0.1",)),
    ("bitget", "safe"): perms(T, T, F, F, F, T, TRADER_IPS),
    ("bitget", "withdraw"): perms(T, T, F, F, T, F),
    ("bitget", "derivatives"): perms(T, T, T, T, F, T, TRADER_IPS),
    ("bitget", "read_only"): perms(T, F, F, F, F, F),
    ("bitget", "missing"): perms(),
    # HTX: validDays unconfirmed -> expiry unknown; margin and futures not reported
    ("htx", "documented"): perms(read=T, spot=T, withdraw=T, ip=F),
    ("htx", "safe"): perms(read=T, spot=T, withdraw=F, ip=T, ips=("203.0.113.7", "198.51.100.2")),
    ("htx", "read_only"): perms(read=T, spot=F, withdraw=F, ip=F),
    ("htx", "missing"): perms(),
}


def credentials(server: ProbeServer, exchange_id: str, **changes: str) -> ApiCredentials:
    account = server.accounts[exchange_id]
    return replace(ApiCredentials(account.key, account.secret, account.passphrase), **changes)


def probe(server: ProbeServer, exchange_id: str, creds: ApiCredentials | None = None) -> KeyPermissions:
    creds = creds or credentials(server, exchange_id)
    return asyncio.run(
        probe_key(exchange_id, creds, now_ms=NOW_MS, api_url=server.url(exchange_id), throttle=False)
    )


def refusal(server: ProbeServer, exchange_id: str, creds: ApiCredentials | None = None) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        probe(server, exchange_id, creds)
    error = caught.value
    shown = " ".join([str(error), repr(error), "".join(traceback.format_exception(error))])
    for secret in (SECRET, PASSPHRASE, KRAKEN_SECRET, "BEGIN EC PRIVATE KEY", "WRONG-secret", "wrong-pass"):
        assert secret not in shown
    return error


# -- what each answer means ----------------------------------------------------------------------------
def test_every_variant_of_every_server_has_an_expectation() -> None:
    from tests.probe_servers.server import HANDLERS

    served = {(ex, v) for ex, handler in HANDLERS.items() for v in handler.variants}
    assert served == set(EXPECTED)
    assert set(PROBED_EXCHANGES) == set(HANDLERS)


@pytest.mark.parametrize(("exchange_id", "variant"), sorted(EXPECTED))
def test_the_probe_reads_what_the_table_says(
    probe_servers: ProbeServer, exchange_id: str, variant: str
) -> None:
    probe_servers.set(exchange_id, variant=variant)
    got = probe(probe_servers, exchange_id)
    assert replace(got, raw_fields=()) == KeyPermissions(
        exchange_id, checked_ms=NOW_MS, **EXPECTED[exchange_id, variant]
    )
    assert not got.fully_unknown or variant in ("missing", "unmatched")
    if variant == "missing":
        assert got.withdraw is None  # an absent field is never read as safe


def test_raw_fields_name_what_was_read(probe_servers: ProbeServer) -> None:
    got = probe(probe_servers, "binance")
    assert "enableWithdrawals" in got.raw_fields and "tradingAuthorityExpirationTime" not in got.raw_fields
    probe_servers.set("binance", variant="missing")
    assert "enableWithdrawals" not in probe(probe_servers, "binance").raw_fields


def test_binance_makes_one_signed_request_and_never_loads_markets(probe_servers: ProbeServer) -> None:
    probe(probe_servers, "binance")
    sent = probe_servers.requests("binance")
    assert [rx.path for rx in sent] == ["/sapi/v1/account/apiRestrictions"]
    assert sent[0].headers["X-MBX-APIKEY"] == KEY and "signature=" in sent[0].query


@pytest.mark.parametrize("exchange_id", sorted(PROBED_EXCHANGES))
def test_each_probe_signs_only_its_permission_requests(probe_servers: ProbeServer, exchange_id: str) -> None:
    probe(probe_servers, exchange_id)
    from tests.probe_servers.server import HANDLERS

    assert {(rx.method, rx.path) for rx in probe_servers.requests(exchange_id)} == set(
        HANDLERS[exchange_id].routes
    )


def test_a_widened_key_is_flagged_against_the_last_reading(probe_servers: ProbeServer) -> None:
    probe_servers.set("okx", variant="safe")
    before = probe(probe_servers, "okx")
    probe_servers.set("okx", variant="documented")
    assert set(probe(probe_servers, "okx").widened_since(before)) == {
        "margin",
        "futures",
        "withdraw",
        "ip_unrestricted",
    }


# -- Coinbase: the secret is a multi-line EC private key --------------------------------------------------
def test_coinbase_multi_line_pem_secret_signs_an_es256_jwt(probe_servers: ProbeServer) -> None:
    creds = credentials(probe_servers, "coinbase")
    assert creds.api_key == COINBASE_KEY and creds.secret.count("\n") >= 4
    assert probe(probe_servers, "coinbase", creds).spot_trade is True
    auth = probe_servers.requests("coinbase")[-1].headers["Authorization"]
    assert auth.startswith("Bearer ") and auth.count(".") == 2


def test_coinbase_pem_pasted_with_escaped_newlines_works(probe_servers: ProbeServer) -> None:
    creds = credentials(probe_servers, "coinbase")
    pasted = replace(creds, secret=creds.secret.strip().replace("\n", "\\n"))  # as in the downloaded JSON
    assert "\n" not in pasted.secret
    assert probe(probe_servers, "coinbase", pasted).read is True


def test_coinbase_wrong_private_key_is_refused(probe_servers: ProbeServer) -> None:
    other_pem, _ = coinbase_key_pair()
    error = refusal(
        probe_servers, "coinbase", replace(credentials(probe_servers, "coinbase"), secret=other_pem)
    )
    assert isinstance(error, AuthenticationFailed)


# -- exchanges that cannot say ----------------------------------------------------------------------------
def test_mexc_and_other_exchanges_are_fully_unknown_without_a_request(probe_servers: ProbeServer) -> None:
    assert probe_for("mexc") is None and probe_for("kucoinfutures") is None
    for exchange_id in ("mexc", "bitstamp"):
        got = asyncio.run(
            probe_key(exchange_id, ApiCredentials(KEY, SECRET), now_ms=NOW_MS, api_url="http://x")
        )
        assert got == KeyPermissions(exchange_id, checked_ms=NOW_MS) and got.fully_unknown
    assert probe_servers.received == []
    with pytest.raises(UnknownExchange):
        asyncio.run(probe_key("no-such-exchange", ApiCredentials(KEY, SECRET), now_ms=NOW_MS))


# -- refusals -----------------------------------------------------------------------------------------------
def wrong(server: ProbeServer, exchange_id: str, kind: str) -> ApiCredentials:
    creds = credentials(server, exchange_id)
    if kind == "wrong_key":
        return replace(
            creds,
            api_key=COINBASE_KEY.replace("apiKeys/9", "apiKeys/0")
            if exchange_id == "coinbase"
            else "WRONG-key-0123456789",
        )
    if kind == "wrong_secret":
        if exchange_id == "coinbase":
            return replace(creds, secret=coinbase_key_pair()[0])
        return replace(
            creds,
            secret=base64.b64encode(b"WRONG-secret" * 4).decode()
            if exchange_id == "kraken"
            else "WRONG-secret-abcdef",
        )
    if kind == "wrong_passphrase":
        return replace(creds, passphrase="wrong-pass")
    if kind == "missing_passphrase":
        return replace(creds, passphrase="")
    return creds


@pytest.mark.parametrize("exchange_id", sorted(PROBED_EXCHANGES))
@pytest.mark.parametrize("kind", ["wrong_key", "wrong_secret"])
def test_wrong_key_or_secret_is_an_authentication_failure(
    probe_servers: ProbeServer, exchange_id: str, kind: str
) -> None:
    error = refusal(probe_servers, exchange_id, wrong(probe_servers, exchange_id, kind))
    assert isinstance(error, AuthenticationFailed)
    assert "passphrase" not in str(error).lower() or exchange_id == "bitget"  # Bitget: "key or passphrase"


@pytest.mark.parametrize("exchange_id", sorted(NEEDS_PASSPHRASE))
def test_missing_passphrase_is_named_before_anything_is_sent(
    probe_servers: ProbeServer, exchange_id: str
) -> None:
    error = refusal(probe_servers, exchange_id, wrong(probe_servers, exchange_id, "missing_passphrase"))
    assert isinstance(error, AuthenticationFailed) and not isinstance(error, KeyNotPermitted)
    assert "API passphrase" in error.message and error.hint == PASSPHRASE_HINT
    assert probe_servers.requests(exchange_id) == []


@pytest.mark.parametrize("exchange_id", sorted(NEEDS_PASSPHRASE))
def test_wrong_passphrase_says_it_is_the_api_passphrase(probe_servers: ProbeServer, exchange_id: str) -> None:
    error = refusal(probe_servers, exchange_id, wrong(probe_servers, exchange_id, "wrong_passphrase"))
    assert isinstance(error, AuthenticationFailed)
    assert "API passphrase" in error.message
    assert "not your account's login or trading password" in error.hint


@pytest.mark.parametrize("exchange_id", sorted(PROBED_EXCHANGES))
def test_ip_not_whitelisted(probe_servers: ProbeServer, exchange_id: str) -> None:
    probe_servers.set(exchange_id, fault="ip")
    error = refusal(probe_servers, exchange_id)
    if exchange_id == "coinbase":  # a bare 401: Coinbase does not say why
        assert isinstance(error, AuthenticationFailed)
    elif exchange_id == "kraken":  # "EGeneral:Permission denied": Kraken does not say it is the IP
        assert isinstance(error, KeyNotPermitted)
    else:
        assert isinstance(error, KeyNotPermitted) and "IP" in error.message


@pytest.mark.parametrize("exchange_id", sorted(PROBED_EXCHANGES))
def test_clock_out_of_sync(probe_servers: ProbeServer, exchange_id: str) -> None:
    if exchange_id == "kraken":  # signs no timestamp: its nonce is refused instead
        probe_servers.set(exchange_id, fault="clock")
    else:
        probe_servers.set(exchange_id, skew_ms=10 * 60_000)
    error = refusal(probe_servers, exchange_id)
    if exchange_id == "coinbase":  # a JWT outside its validity: a bare 401
        assert isinstance(error, AuthenticationFailed)
    else:
        assert isinstance(error, ClockOutOfSync)


def test_clock_resynchronised_once_then_the_probe_succeeds(probe_servers: ProbeServer) -> None:
    probe_servers.set("binance", skew_ms=10 * 60_000, extra={"serve_time": True})
    assert probe(probe_servers, "binance").spot_trade is False
    paths = [rx.path for rx in probe_servers.requests("binance")]
    assert paths == ["/sapi/v1/account/apiRestrictions", "/api/v3/time", "/sapi/v1/account/apiRestrictions"]


def test_no_secret_in_any_log_record(probe_servers: ProbeServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for exchange_id in sorted(PROBED_EXCHANGES):
        probe(probe_servers, exchange_id)
        kinds = ("wrong_secret", "wrong_passphrase") if exchange_id in NEEDS_PASSPHRASE else ("wrong_secret",)
        for kind in kinds:
            with pytest.raises(ExchangeError):
                probe(probe_servers, exchange_id, wrong(probe_servers, exchange_id, kind))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "permissions read from" in logged
    for secret in (SECRET, PASSPHRASE, KRAKEN_SECRET, "PRIVATE KEY", "WRONG-secret", "wrong-pass"):
        assert secret not in logged


@pytest.mark.parametrize("exchange_id", sorted(PROBED_EXCHANGES))
def test_rate_limited(probe_servers: ProbeServer, exchange_id: str) -> None:
    probe_servers.set(exchange_id, fault="rate_limit")
    error = refusal(probe_servers, exchange_id)
    assert isinstance(error, RateLimited)
    if exchange_id == "binance":
        assert error.retry_after == 7


@pytest.mark.parametrize("exchange_id", sorted(PROBED_EXCHANGES))
def test_exchange_down(probe_servers: ProbeServer, exchange_id: str) -> None:
    probe_servers.set(exchange_id, fault="down")
    assert type(refusal(probe_servers, exchange_id)) is ExchangeUnavailable


def test_exchange_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ExchangeUnavailable):
        asyncio.run(
            probe_key(
                "okx",
                ApiCredentials(KEY, SECRET, PASSPHRASE),
                now_ms=NOW_MS,
                api_url=f"http://127.0.0.1:{port}",
            )
        )
