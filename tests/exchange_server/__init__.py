"""A local exchange for tests: Binance spot and OKX v5 REST on 127.0.0.1, with real signatures checked,
orders matched by the app's paper engine on the shipped real candles, and faults on demand.

Run it on its own with ``python -m tests.exchange_server --help``; in tests use ``fixture.py``.
"""

from .faults import Fault
from .server import ExchangeServer, ServerConfig

__all__ = ["ExchangeServer", "Fault", "ServerConfig"]
