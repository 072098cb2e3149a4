"""pytest fixtures: one ``ProbeServer`` for the session, reset before each test; the test credentials."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.probe_servers.base import Account
from tests.probe_servers.server import HANDLERS, ProbeServer

KEY = "pRoBeKeY0123456789abcdefABCDEF"
SECRET = "pRoBeSeCrEt-9f8e7d6c5b4a3210-sentinel"
PASSPHRASE = "probe-passphrase-7"
KRAKEN_SECRET = base64.b64encode(b"kraken-probe-secret-" * 3).decode()
COINBASE_KEY = (
    "organizations/1f2e3d4c-0000-4000-8000-00000000a0b1/apiKeys/9a8b7c6d-0000-4000-8000-00000000c0d1"
)
NEEDS_PASSPHRASE = frozenset({"okx", "kucoin", "bitget"})


def coinbase_key_pair() -> tuple[str, ec.EllipticCurvePublicKey]:
    """A fresh P-256 key as Coinbase hands it out: the secret is a multi-line SEC1 PEM."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return pem, private.public_key()


def accounts(coinbase_pem_public: tuple[str, ec.EllipticCurvePublicKey]) -> dict[str, Account]:
    pem, public = coinbase_pem_public
    made: dict[str, Account] = {}
    for exchange_id in HANDLERS:
        if exchange_id == "coinbase":
            made[exchange_id] = Account(COINBASE_KEY, pem, extra={"public_key": public})
        elif exchange_id == "kraken":
            made[exchange_id] = Account(KEY, KRAKEN_SECRET)
        else:
            made[exchange_id] = Account(KEY, SECRET, PASSPHRASE if exchange_id in NEEDS_PASSPHRASE else "")
    return made


@pytest.fixture(scope="session")
def probe_servers_session() -> Iterator[ProbeServer]:
    server = ProbeServer(accounts(coinbase_key_pair()))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def probe_servers(probe_servers_session: ProbeServer) -> ProbeServer:
    """The session's server with every exchange back to its documented answer, no faults, no skew."""
    probe_servers_session.reset()
    return probe_servers_session
