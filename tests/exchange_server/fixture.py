"""Starting the local exchange from tests, and pointing real ccxt at it.

Two ways to run it, one handle (``LocalExchange``) to drive both over the ``/_control`` endpoints:

- ``start_in_thread(config)``: in this process, on its own event loop in a daemon thread (fast; the
  ``ExchangeServer`` object is at ``.server`` for inspection);
- ``start_subprocess(*args)``: ``python -m tests.exchange_server --port 0 ...`` as a child process (for
  tests that kill the app's process but not the exchange's, or the other way round).

pytest fixtures (import them into a conftest): ``exchange_server`` (session-wide, in a thread, replay at
"max": market time moves only by ``advance``), ``local_exchange`` (the same server, with faults, skew,
restrictions and the request log reset before each test) and ``exchange_process`` (a fresh subprocess per
test, stopped afterwards).

ccxt: ``binance_client(exchange)`` / ``okx_client(exchange)`` build ``ccxt.async_support`` instances with
every API URL rewritten to the local exchange and the options that keep ccxt on spot and on one request
for markets (``../shared/design/ci-recipes.md``), and ccxt's client-side throttle off (``enableRateLimit``;
pass ``enableRateLimit=True`` to keep it). Create and use them inside a running event loop; close them
with ``await client.close()``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cryptobots_desktop.core.replay import ReplaySpeed

from .server import DEFAULT_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET, ExchangeServer, ServerConfig

ROOT = Path(__file__).resolve().parents[2]
BINANCE_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
    "defaultType": "spot",
}
OKX_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "defaultType": "spot",
}


class LocalExchange:
    """A running local exchange: where it is, its credentials, and its controls (over HTTP)."""

    def __init__(self, base_url: str, key: str, secret: str, passphrase: str) -> None:
        self.base_url = base_url
        self.key = key
        self.secret = secret
        self.passphrase = passphrase

    # --- controls -------------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call a ``/_control`` endpoint; returns its JSON answer (raises on an HTTP error)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_control/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"control {method} {path}: {exc.code} {exc.read().decode()}") from None

    def add_fault(self, kind: str, **fields: Any) -> list[dict[str, Any]]:
        """Add a fault: ``add_fault("status", status=503, method="POST", path="/api/v3/order", count=2)``.

        Kinds: delay (delay_ms), drop_before, drop_after, status (status, body), malformed, rate_limit
        (retry_after_s). ``count=None`` keeps it until ``clear_faults``; ``skip=N`` lets N requests pass.
        """
        faults: list[dict[str, Any]] = self.control("POST", "faults", {"kind": kind, **fields})["faults"]
        return faults

    def clear_faults(self) -> None:
        """Remove every fault and end any rate-limit window or ban."""
        self.control("DELETE", "faults")

    def set_restrictions(self, *, reset: bool = False, **flags: Any) -> dict[str, Any]:
        """Change what the key may do / reports (``enableWithdrawals=True``, ``ipRestrict=True``...)."""
        result: dict[str, Any] = self.control("POST", "restrictions", {**flags, "reset": reset})
        return result

    def set_skew(self, skew_ms: int) -> None:
        """Server time = wall clock + ``skew_ms`` (client timestamps fall outside recvWindow)."""
        self.control("POST", "clock", {"skew_ms": skew_ms})

    def advance(self, ms: int) -> int:
        """Move market time forward by ``ms`` (resting orders match along the way); the new replay ms."""
        return int(self.control("POST", "replay", {"advance_ms": ms})["replay_ms"])

    def set_speed(self, speed: str) -> None:
        """Replay speed: "1x", "10x", "100x" or "max" (moves only by ``advance``)."""
        self.control("POST", "replay", {"speed": speed})

    def replay_ms(self) -> int:
        return int(self.state()["replay_ms"])

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "state")
        return result

    def requests(self) -> list[dict[str, Any]]:
        """Every request answered so far: method, path, query, status, api_key, wall_ms, note."""
        result: list[dict[str, Any]] = self.control("GET", "requests")
        return result

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    def reset(self, *, accounts: bool = False) -> None:
        """No faults, no skew, default restrictions; with ``accounts``, fresh paper accounts too."""
        self.control("POST", "reset", {"accounts": accounts})

    # --- clients --------------------------------------------------------------------------------

    def binance(self, **config: Any) -> Any:
        return binance_client(self, **config)

    def okx(self, **config: Any) -> Any:
        return okx_client(self, **config)


def local_urls(urls: dict[str, Any], base_url: str) -> dict[str, Any]:
    """Every URL in ccxt's ``urls['api']`` moved to ``base_url``, keeping its path."""
    return {k: (base_url + urlsplit(v).path if isinstance(v, str) else v) for k, v in urls.items()}


def binance_client(exchange: LocalExchange, **config: Any) -> Any:
    """``ccxt.async_support.binance`` on the local exchange with its key (override with ``apiKey=`` etc.)."""
    import ccxt.async_support as ccxt_async

    options = {**BINANCE_OPTIONS, **config.pop("options", {})}
    settings = {
        "apiKey": exchange.key,
        "secret": exchange.secret,
        "options": options,
        "enableRateLimit": False,  # ccxt's client-side throttle sleeps up to seconds per call (allOrders)
        **config,
    }
    client = ccxt_async.binance(settings)
    client.urls["api"] = local_urls(client.urls["api"], exchange.base_url)
    client.timeout_on_exit = 0  # close() sleeps 250 ms for TLS sessions to wind down: plain HTTP here
    return client


def okx_client(exchange: LocalExchange, **config: Any) -> Any:
    """``ccxt.async_support.okx`` on the local exchange with key, secret and passphrase (``password``)."""
    import ccxt.async_support as ccxt_async

    options = {**OKX_OPTIONS, **config.pop("options", {})}
    settings = {
        "apiKey": exchange.key,
        "secret": exchange.secret,
        "password": exchange.passphrase,
        "options": options,
        "enableRateLimit": False,
        **config,
    }
    client = ccxt_async.okx(settings)
    client.urls["api"] = {**client.urls["api"], "rest": exchange.base_url}
    client.timeout_on_exit = 0
    return client


class ThreadedExchange(LocalExchange):
    """The local exchange in this process, on an event loop of its own in a daemon thread."""

    def __init__(self, config: ServerConfig) -> None:
        self.server = ExchangeServer(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-exchange", daemon=True)
        self._thread.start()
        base_url = asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=60)
        super().__init__(base_url, config.key, config.secret, config.passphrase)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


class SubprocessExchange(LocalExchange):
    """``python -m tests.exchange_server`` as a child process (``.process``); ``stop`` sends SIGTERM."""

    def __init__(
        self,
        *args: str,
        key: str = DEFAULT_KEY,
        secret: str = DEFAULT_SECRET,
        passphrase: str = DEFAULT_PASSPHRASE,
        env: dict[str, str] | None = None,
    ) -> None:
        command = [
            sys.executable, "-m", "tests.exchange_server", "--port", "0",
            "--key", key, "--secret", secret, "--passphrase", passphrase, *args,
        ]  # fmt: skip
        environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        if not first.startswith("http://"):
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"the local exchange did not start: {first!r} {err}")
        super().__init__(first, key, secret, passphrase)

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, wait; returns the exit code (SIGKILL if it does not exit in ``timeout`` s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return int(self.process.returncode)


def start_in_thread(config: ServerConfig | None = None, **fields: Any) -> ThreadedExchange:
    """Start the local exchange in this process (``ServerConfig`` fields as keywords also work)."""
    return ThreadedExchange(config or ServerConfig(**fields))


def start_subprocess(*args: str, **kwargs: Any) -> SubprocessExchange:
    """Start ``python -m tests.exchange_server --port 0 ARGS...``; returns once it printed its URL."""
    return SubprocessExchange(*args, **kwargs)


# --- pytest fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def exchange_server() -> Iterator[ThreadedExchange]:
    """One local exchange for the session, in a thread; market time moves only by ``advance``."""
    exchange = start_in_thread(ServerConfig(speed=ReplaySpeed.MAX))
    try:
        yield exchange
    finally:
        exchange.stop()


@pytest.fixture
def local_exchange(exchange_server: ThreadedExchange) -> ThreadedExchange:
    """The session's local exchange with faults, skew, restrictions and the request log cleared."""
    exchange_server.reset()
    exchange_server.clear_requests()
    return exchange_server


@pytest.fixture
def exchange_process() -> Iterator[SubprocessExchange]:
    """A local exchange in its own process for this test (replay at "max"), stopped afterwards."""
    exchange = start_subprocess("--speed", "max")
    try:
        yield exchange
    finally:
        exchange.stop()
