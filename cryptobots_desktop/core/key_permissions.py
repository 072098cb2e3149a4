"""What an exchange says an API key may do, as one exchange-neutral record.

Every capability is three-valued: ``True``/``False`` when the exchange said so, ``None`` when it cannot
say (no endpoint, a testnet, a field absent). ``None`` is never shown as safe: the audit rules
(``core.permissions``) treat it as "unknown" and show the guide instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    """One probe's reading of a key; ``raw_fields`` names the exchange fields it was read from."""

    exchange_id: str
    read: bool | None = None
    spot_trade: bool | None = None
    margin: bool | None = None
    futures: bool | None = None
    withdraw: bool | None = None
    ip_restricted: bool | None = None
    ip_whitelist: tuple[str, ...] = ()
    expires_ms: int | None = None  # Unix ms; None: never, or not reported (see ``expiry_known``)
    expiry_known: bool = False
    checked_ms: int = 0
    raw_fields: tuple[str, ...] = field(default=())

    @property
    def fully_unknown(self) -> bool:
        """True when the exchange told nothing about the key (e.g. MEXC, a testnet)."""
        return all(
            v is None for v in (self.read, self.spot_trade, self.margin, self.futures, self.withdraw)
        ) and (self.ip_restricted is None)

    def widened_since(self, before: KeyPermissions) -> tuple[str, ...]:
        """The capabilities this reading grants that ``before`` did not (a key that gained rights)."""
        names = ("read", "spot_trade", "margin", "futures", "withdraw")
        gained = [n for n in names if getattr(self, n) is True and getattr(before, n) is not True]
        if before.ip_restricted is True and self.ip_restricted is False:
            gained.append("ip_unrestricted")
        return tuple(gained)
