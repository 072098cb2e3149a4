"""Values an account in its quote currency and reports the change against its starting funds."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from cryptobots_desktop.core.balances import Balance, value_portfolio
from cryptobots_desktop.core.ports import ExchangeGateway

from .event_bus import EventBus
from .events import PortfolioUpdated


class PortfolioTracker:
    """Fetches one account's balances and publishes ``PortfolioUpdated`` valued at the prices it is given."""

    def __init__(
        self,
        bus: EventBus,
        gateway: ExchangeGateway,
        *,
        account_id: str,
        quote: str = "USDT",
        starting_balances: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.account_id = account_id
        self._bus = bus
        self._gateway = gateway
        self.quote = quote
        self._starting = {
            asset: Balance(asset, amount, Decimal(0)) for asset, amount in (starting_balances or {}).items()
        }
        self.last: PortfolioUpdated | None = None
        self.held: tuple[str, ...] = ()  # the assets held at the last fetch, most valuable first

    async def prime(self) -> None:
        """Fetch the balances without publishing, so the first poll knows which assets to price."""
        balances = await self._gateway.fetch_balances()
        self.held = tuple(sorted(b.asset for b in balances.values() if b.total > 0))

    async def refresh(self, prices: Mapping[str, Decimal]) -> PortfolioUpdated:
        balances = await self._gateway.fetch_balances()
        valuation = value_portfolio(balances, prices, self.quote)
        start_value = value_portfolio(self._starting, prices, self.quote).total if self._starting else None
        change = valuation.total - start_value if start_value is not None else None
        change_pct = change / start_value * 100 if change is not None and start_value else None
        self.last = PortfolioUpdated(valuation, change, change_pct, self.account_id)
        self.held = tuple(r.balance.asset for r in valuation.rows)
        self._bus.publish(self.last)
        return self.last
