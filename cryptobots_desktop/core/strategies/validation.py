"""Turning bot settings errors into sentences a person reads, and formatting numbers inside them.

Strategy parameter models raise :class:`pydantic_core.PydanticCustomError` with a finished sentence
(error type :data:`SETTING_ERROR`); :func:`field_problems` turns a ``ValidationError`` into
``(field label, sentence)`` pairs for the new-bot dialog and the command line, writing sentences for
pydantic's own errors too (missing value, not a number, ...). Field labels are the ``Field(title=...)``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

SETTING_ERROR = "bot_setting"
"""The pydantic error type of every sentence the strategy models write themselves."""


def reject(message: str, field: str | None = None) -> NoReturn:
    """Raise a settings error carrying ``message`` as is; ``field`` names it for model-level checks."""
    raise PydanticCustomError(SETTING_ERROR, message, {"field": field} if field else None)


def field_label(model: type[BaseModel], name: str) -> str:
    """The label a person sees for field ``name`` of ``model`` (its title), or the name itself."""
    info = model.model_fields.get(name)
    return info.title if info is not None and info.title else name


def _sentence(label: str, error: Any) -> str:
    kind = error["type"]
    if kind == SETTING_ERROR:
        return str(error["msg"])
    if kind == "missing":
        return f"{label} is required."
    if kind in {"decimal_parsing", "decimal_type", "float_parsing", "float_type"}:
        return f"{label} must be a number, like 10 or 2.5."
    if kind == "finite_number":
        return f"{label} must be an ordinary number, not infinity or NaN."
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{label} must be a whole number."
    if kind in {"bool_parsing", "bool_type"}:
        return f"{label} must be on or off."
    if kind in {"enum", "literal_error"}:
        return f"{label} must be one of: {error.get('ctx', {}).get('expected', '')}."
    if kind == "extra_forbidden":
        return f"{label} is not a setting of this bot; remove it."
    return f"{label}: {error['msg']}."


def field_problems(error: ValidationError, model: type[BaseModel]) -> list[tuple[str, str]]:
    """``(field label, sentence)`` for each error, in the order pydantic reports them."""
    problems: list[tuple[str, str]] = []
    for item in error.errors():
        loc = item["loc"]
        name = str(loc[0]) if loc else str((item.get("ctx") or {}).get("field") or "")
        label = field_label(model, name) if name else model.__name__
        problems.append((label, _sentence(label, item)))
    return problems


_WIDE = Context(prec=1000)  # formatting only: wide enough that quantizing huge values never fails


def _quantize(value: Decimal, decimals: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=rounding, context=_WIDE)


def fmt_number(value: Decimal, max_decimals: int = 8) -> str:
    """A plain number: no exponent, no trailing zeros, at most ``max_decimals`` decimals (``0.125``)."""
    text = format(_quantize(value, max_decimals).normalize(_WIDE), "f")
    return "0" if text == "-0" else text


def fmt_fixed(value: Decimal, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals, as a market shows its prices or amounts."""
    return format(_quantize(value, decimals), "f")


def fmt_quote(value: Decimal) -> str:
    """A quote-currency value: two decimals, cut (never rounded up, so 4.999 under 5 reads ``4.99``);
    values under 1 keep their significant digits (``0.0042``)."""
    if abs(value) >= 1:
        return format(_quantize(value, 2, ROUND_DOWN), "f")
    return fmt_number(value)


def fmt_pct(value: Decimal) -> str:
    """A percentage without the sign, at most 4 decimals (``7``, ``0.7981``)."""
    return fmt_number(value, 4)
