"""The local exchange's pytest fixtures, for the live-path tests."""

from tests.exchange_server.fixture import exchange_process, exchange_server, local_exchange

__all__ = ["exchange_process", "exchange_server", "local_exchange"]
