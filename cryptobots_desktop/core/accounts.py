"""Exchange accounts as the app remembers them, and the checks on what a person types to connect one.

An ``Account`` holds no secret: its id, exchange, label, the key shown masked, and what the last
permission check found. The credentials themselves live only in the OS keyring (``ports.SecretVault``),
keyed by ``account_id``.

Credential input is checked here before it goes anywhere: each field trimmed, a wallet recovery phrase
refused (``core.seed_phrase``), the fields the exchange requires (ccxt's ``requiredCredentials``) present.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from cryptobots_desktop.core.credentials import ApiCredentials, mask
from cryptobots_desktop.core.errors import InvalidAccount, InvalidCredentials, RiskNotAccepted
from cryptobots_desktop.core.key_permissions import KeyPermissions
from cryptobots_desktop.core.seed_phrase import Bip39Wordlist, refuse_seed_phrase

LABEL_MAX_LENGTH = 60
ACCOUNT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

CCXT_CREDENTIAL_FIELDS: Mapping[str, str] = {
    "apiKey": "api_key",
    "secret": "secret",
    "password": "passphrase",  # ccxt's name for the API passphrase (OKX, KuCoin, Bitget, ...)
    "uid": "uid",
}
"""ccxt ``requiredCredentials`` names -> ``ApiCredentials`` fields; the others are not taken."""

FIELD_NAMES: Mapping[str, str] = {
    "api_key": "API key",
    "secret": "API secret",
    "passphrase": "API passphrase",
    "uid": "user id (uid)",
}
"""How each credential field is named to a person."""

_WALLET_CREDENTIALS = frozenset({"privateKey", "walletAddress"})


@dataclass(frozen=True, slots=True)
class RiskAcceptance:
    """A person accepted the risk of a key's permissions (withdrawals) by typing the account's label.

    ``permissions`` is the reading they accepted; a key that gains any right after it needs a new
    acceptance (``covers``).
    """

    accepted_ms: int
    permissions: KeyPermissions

    def covers(self, current: KeyPermissions) -> bool:
        """True when ``current`` grants nothing the accepted reading did not."""
        return not current.widened_since(self.permissions)


@dataclass(frozen=True, slots=True)
class Account:
    """A connected exchange account (no secret): what the Accounts view lists and bots refer to."""

    account_id: str
    exchange_id: str
    label: str
    key_hint: str  # the API key masked: first 4 and last 4 characters (core.credentials.mask)
    created_ms: int
    last_checked_ms: int | None = None
    permissions: KeyPermissions | None = None  # the last check's reading; None before the first
    widened: tuple[str, ...] = ()  # rights the key gained between checks, until the person has seen them
    risk_acceptance: RiskAcceptance | None = None

    @classmethod
    def create(
        cls,
        account_id: str,
        exchange_id: str,
        label: str,
        credentials: ApiCredentials,
        now_ms: int,
        *,
        other_labels: Iterable[str] = (),
    ) -> Account:
        """A new account for checked credentials (the key is kept only as its masked hint)."""
        check_account_id(account_id)
        if not exchange_id.strip():
            raise InvalidAccount("Choose the exchange of the account.")
        return cls(
            account_id=account_id,
            exchange_id=exchange_id.strip(),
            label=check_label(label, other_labels),
            key_hint=mask(credentials.api_key),
            created_ms=now_ms,
        )

    def with_credentials(self, credentials: ApiCredentials) -> Account:
        """The account after its key was replaced: a new hint, and nothing known or accepted about it."""
        return replace(
            self,
            key_hint=mask(credentials.api_key),
            last_checked_ms=None,
            permissions=None,
            widened=(),
            risk_acceptance=None,
        )

    def with_label(self, label: str, other_labels: Iterable[str] = ()) -> Account:
        """The account renamed. A withdrawal acceptance stays: it was for the key, not the name."""
        return replace(self, label=check_label(label, other_labels))

    def with_check(self, permissions: KeyPermissions, now_ms: int) -> Account:
        """The account after a permission check.

        Rights gained since the previous check are added to ``widened`` (kept until
        ``acknowledge_widening``); a right the key no longer has is dropped from it.
        """
        gained = permissions.widened_since(self.permissions) if self.permissions is not None else ()
        widened = tuple(
            name for name in dict.fromkeys((*self.widened, *gained)) if _still_granted(permissions, name)
        )
        return replace(self, last_checked_ms=now_ms, permissions=permissions, widened=widened)

    def acknowledge_widening(self) -> Account:
        """The person has seen that the key gained rights: the flag clears."""
        return replace(self, widened=())

    def accept_risk(self, typed_label: str, now_ms: int) -> Account:
        """Record that the person accepted this key's permissions by typing the account's label.

        Raises ``RiskNotAccepted`` when the typed text is not the label (surrounding spaces ignored), or
        when the key has not been checked (there is nothing known to accept).
        """
        if self.permissions is None:
            raise RiskNotAccepted(
                "The key has not been checked yet, so there is nothing to accept.",
                "Check the key first; then read what it may do.",
            )
        if typed_label.strip() != self.label:
            raise RiskNotAccepted(
                "What you typed is not the account's name, so nothing was accepted.",
                f"Type the account's name exactly as shown: {self.label}",
            )
        return replace(self, risk_acceptance=RiskAcceptance(now_ms, self.permissions))


def _still_granted(permissions: KeyPermissions, name: str) -> bool:
    if name == "ip_unrestricted":
        return permissions.ip_restricted is False
    return getattr(permissions, name, None) is True


def new_account_id(exchange_id: str) -> str:
    """A fresh, unguessable account id such as ``binance-3f9a0c1d2b4e``."""
    prefix = "".join(ch for ch in exchange_id.lower() if ch.isascii() and ch.isalnum())[:24] or "account"
    return check_account_id(f"{prefix}-{secrets.token_hex(6)}")


def check_account_id(account_id: str) -> str:
    """An account id: lowercase letters, digits, ``_.-``, at most 64 characters (it names keyring entries)."""
    if not ACCOUNT_ID_PATTERN.fullmatch(account_id):
        raise InvalidAccount(f"{account_id!r} is not a valid account id.")
    return account_id


def check_label(label: str, other_labels: Iterable[str] = ()) -> str:
    """The label trimmed; refused when empty, too long, on several lines, or another account's already."""
    label = " ".join(label.split())
    if not label:
        raise InvalidAccount("Give the account a name.", "For example: Binance main.")
    if len(label) > LABEL_MAX_LENGTH:
        raise InvalidAccount(f"The name is too long: at most {LABEL_MAX_LENGTH} characters.")
    if label.casefold() in {other.casefold() for other in other_labels}:
        raise InvalidAccount(
            f"Another account is already called {label!r}.", "Choose a name that tells them apart."
        )
    return label


@dataclass(frozen=True, slots=True)
class RequiredFields:
    """Which credential fields an exchange needs, read from ccxt's ``requiredCredentials``."""

    fields: tuple[str, ...]  # ApiCredentials field names, in the order the form shows them
    unsupported: tuple[str, ...] = ()  # ccxt names the app does not take (wallet keys, logins, 2FA)

    @classmethod
    def from_ccxt(cls, required_credentials: Mapping[str, bool]) -> RequiredFields:
        """From an exchange's ``requiredCredentials`` (e.g. ``{"apiKey": True, "secret": True, ...}``)."""
        needed = {name for name, required in required_credentials.items() if required}
        fields = tuple(f for ccxt, f in CCXT_CREDENTIAL_FIELDS.items() if ccxt in needed)
        unsupported = tuple(sorted(needed - CCXT_CREDENTIAL_FIELDS.keys()))
        return cls(fields, unsupported)

    @property
    def supported(self) -> bool:
        """False when the exchange needs something the app never takes (a wallet's private key, a login)."""
        return not self.unsupported and {"api_key", "secret"} <= set(self.fields)


def _clean(field: str, value: str) -> str:
    value = value.strip()
    if field == "secret" and "-----BEGIN" in value:
        # Coinbase: a multi-line EC private key (PEM); pasted from its JSON file the line breaks are "\n"
        value = value.replace("\\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
        return "\n".join(line.strip() for line in value.split("\n")).strip() + "\n"
    if field in {"api_key", "secret", "uid"} and any(ch.isspace() for ch in value):
        raise InvalidCredentials(
            f"The {FIELD_NAMES[field]} contains a space or a line break.",
            "Copy it again from the exchange's API page, all of it and nothing else.",
            field=field,
        )
    return value


def validate_credentials(
    values: Mapping[str, str], required: RequiredFields, wordlist: Bip39Wordlist
) -> ApiCredentials:
    """Credentials from the form's fields (``ApiCredentials`` names), checked before they go anywhere.

    Every field is first checked for a wallet recovery phrase (``SeedPhraseRefused``), then trimmed;
    fields the exchange needs must be filled, fields it does not need are dropped. Raises
    ``InvalidCredentials`` naming the field (never echoing the value).
    """
    for field, value in values.items():
        if field not in FIELD_NAMES:
            raise InvalidCredentials(f"Unknown credential field {field!r}.", field=field)
        refuse_seed_phrase(field, value, wordlist)
    if required.unsupported:
        wallet = _WALLET_CREDENTIALS.intersection(required.unsupported)
        others = ", ".join(required.unsupported)
        raise InvalidCredentials(
            "This exchange needs a wallet's private key or address, which this app never takes."
            if wallet
            else f"This exchange needs credentials this app does not support: {others}.",
            "Use an exchange that works with an API key and secret.",
            field=required.unsupported[0],
        )
    cleaned: dict[str, str] = {}
    for field in required.fields:
        value = _clean(field, values.get(field, ""))
        if not value:
            hint = (
                "The API passphrase is the one you chose when you created the API key on the exchange "
                "(not your login or trading password)."
                if field == "passphrase"
                else "Copy it from the exchange's API page."
            )
            raise InvalidCredentials(f"Enter the {FIELD_NAMES[field]}.", hint, field=field)
        cleaned[field] = value
    return ApiCredentials(
        api_key=cleaned.get("api_key", ""),
        secret=cleaned.get("secret", ""),
        passphrase=cleaned.get("passphrase", ""),
        uid=cleaned.get("uid", ""),
    )
