"""An exchange account's API credentials, held in memory only for the calls that need them.

The keyring vault is the only place they rest; this type never shows them: its ``repr`` masks every
field, so a log line, a traceback's locals or an exception message that formats it leaks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


def mask(value: str) -> str:
    """A key shown as people recognise it, first 4 and last 4 characters (short values fully hidden)."""
    value = value.strip()
    if len(value) < 12:
        return "•" * len(value)
    return f"{value[:4]}…{value[-4:]}"


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """API key and secret, plus the passphrase or uid some exchanges need (ccxt ``requiredCredentials``)."""

    api_key: str
    secret: str
    passphrase: str = ""
    uid: str = ""

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={'<set>' if getattr(self, f.name) else '<empty>'}" for f in fields(self))
        return f"ApiCredentials({shown})"

    __str__ = __repr__

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every non-empty credential string, for scrubbing texts that might echo one."""
        return tuple(v for v in (self.api_key, self.secret, self.passphrase, self.uid) if v)
