"""The local exchange's pytest fixtures, from ``tests/exchange_server/fixture.py``."""

from tests.exchange_server.fixture import exchange_process, exchange_server, local_exchange

__all__ = ["exchange_process", "exchange_server", "local_exchange"]
