"""How numbers and times read in the window: Decimal money with the currency, signed changes, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal


def fmt_amount(value: Decimal, decimals: int) -> str:
    """``12345.678`` with 2 decimals -> ``"12,345.68"``."""
    quantized = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{quantized:,.{decimals}f}"


def fmt_money(value: Decimal, currency: str, decimals: int = 2) -> str:
    return f"{fmt_amount(value, decimals)} {currency}"


def fmt_signed(value: Decimal, decimals: int = 2) -> str:
    """Always with a sign, so colour is never the only signal: ``+1.20``, ``-0.35``, ``0.00``."""
    text = fmt_amount(abs(value), decimals)
    if value.quantize(Decimal(1).scaleb(-decimals)) == 0:
        return text
    return ("+" if value > 0 else "-") + text


def fmt_pct(value: Decimal) -> str:
    return f"{fmt_signed(value, 2)} %"


def fmt_utc(ts_ms: int, seconds: bool = False) -> str:
    fmt = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime(fmt)


def fmt_local_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")
