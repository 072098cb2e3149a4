"""Per-exchange guides: how to make a safe API key (read + spot trade, no withdrawals, your IP only).

Short steps with the menu names the exchanges use. Exchanges rename their menus now and then, so the
steps stay generic where a name is uncertain, and each guide ends with what to check, whatever the menus
are called. ``guide_for`` falls back to ``GENERIC_GUIDE`` for any other exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class KeyGuide:
    """How to make a safe key on one exchange."""

    exchange_id: str  # ccxt id; "" for the generic guide
    exchange_name: str
    steps: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what the app cannot check there, passphrase and expiry rules


SAFE_KEY_SUMMARY = (
    "A bot needs exactly two permissions: read, and spot trading. Never withdrawals, transfers, futures or "
    "margin. Restrict the key to your IP address where the exchange allows it."
)

_CHECK = (
    "Before saving, check: reading on; spot trading on; withdrawals, transfers, futures, margin and "
    "options off; restricted to your IP address."
)

GENERIC_GUIDE = KeyGuide(
    "",
    "Any exchange",
    (
        "Sign in on the exchange's website and open API management (usually under your profile or "
        "account settings).",
        "Create a new API key for your own use (not a third-party / broker connection).",
        "Give it a name you will recognise, such as 'Cryptobots'.",
        "Enable reading and spot trading only. Leave withdrawals, transfers, futures, margin and options "
        "off.",
        "Restrict the key to your IP address if the exchange offers it.",
        "Copy the key and the secret (and the passphrase, if the exchange asked you to choose one) into "
        "this app. The secret is usually shown only once.",
        _CHECK,
    ),
    (
        "An API key is not your login password, and never your wallet's recovery phrase or private key: "
        "this app never needs those.",
    ),
)

_GUIDES: tuple[KeyGuide, ...] = (
    KeyGuide(
        "binance",
        "Binance",
        (
            "On binance.com, open the profile menu and choose API Management.",
            "Click Create API, choose System generated, name the key and pass the security check.",
            "Click Edit restrictions. Keep Enable Reading and tick Enable Spot & Margin Trading.",
            "Leave Enable Withdrawals, Enable Margin Loan, Repay & Transfer, Enable Futures, Permits "
            "Universal Transfer and any options permission unticked.",
            "Under IP access restrictions choose Restrict access to trusted IPs only and add your IP "
            "address.",
            "Save, then copy the API Key and the Secret Key (the secret is shown only once).",
            _CHECK,
        ),
        (
            "Spot and margin trading are one switch on Binance; margin stays unused as long as the margin "
            "loan permission is off and you have no margin account.",
        ),
    ),
    KeyGuide(
        "okx",
        "OKX",
        (
            "On okx.com, open the profile menu and choose API keys, then Create API key.",
            "Choose API trading (for your own use), name the key and choose an API passphrase.",
            "Tick Read and Trade. Leave Withdraw unticked.",
            "Add your IP address to the key.",
            "Confirm, then copy the API key, the secret key, and the passphrase you chose.",
            _CHECK,
        ),
        (
            "The passphrase here is the API key's passphrase you chose when creating it, not your login "
            "password or your trading (fund) password.",
            "OKX tells apps whether the account may use margin or derivatives, not whether the key may: "
            "the app warns from the account's mode.",
        ),
    ),
    KeyGuide(
        "bybit",
        "Bybit",
        (
            "On bybit.com, open the profile menu and choose API, then Create New Key.",
            "Choose System-generated API Keys and API Transaction, and name the key.",
            "Choose Read-Write and tick only the spot Trade permission.",
            "Leave contract/derivatives, options, wallet (transfer, withdrawal) and exchange permissions "
            "unticked.",
            "Choose to allow only the IP addresses you enter, and add yours.",
            "Submit, pass the security check, and copy the API key and the secret.",
            _CHECK,
        ),
        ("Bybit limits how long a key without an IP address list stays valid; the app shows its expiry.",),
    ),
    KeyGuide(
        "kucoin",
        "KuCoin",
        (
            "On kucoin.com, open the profile menu and choose API Management, then Create API.",
            "Choose API trading, name the key and choose an API passphrase.",
            "Keep General (read) and tick Spot Trading. Leave Margin Trading, Futures Trading, Transfer "
            "and Withdrawal unticked.",
            "Turn on the IP restriction and add your IP address.",
            "Pass the security check, then copy the key, the secret, and the passphrase you chose.",
            _CHECK,
        ),
        (
            "The passphrase is the API key's passphrase you chose when creating it, not your trading "
            "password.",
        ),
    ),
    KeyGuide(
        "coinbase",
        "Coinbase",
        (
            "Sign in to the Coinbase Developer Platform (portal.cdp.coinbase.com) and open API keys "
            "(Secret API Keys), then Create API key.",
            "Name the key and choose the portfolio the bots should trade.",
            "Permissions: tick View and Trade. Leave Transfer unticked.",
            "Under the advanced settings choose the ECDSA signature algorithm, and add your IP address to "
            "the IP allowlist.",
            "Create it and copy the key name (organizations/…/apiKeys/…) and the private key (several "
            "lines from -----BEGIN EC PRIVATE KEY----- to -----END EC PRIVATE KEY-----).",
            _CHECK,
        ),
        (
            "The API secret is the whole private key, with its BEGIN and END lines. It is still not a "
            "wallet's private key or recovery phrase.",
            "Coinbase does not tell apps whether a key is IP-restricted: check it yourself.",
        ),
    ),
    KeyGuide(
        "kraken",
        "Kraken",
        (
            "On kraken.com, open Settings, then API (Connections & API), and create a new key.",
            "Name it. Funds permissions: Query only; leave Deposit and Withdraw off.",
            "Orders and trades: tick Query open orders & trades, Query closed orders & trades, Create & "
            "modify orders, Cancel & close orders.",
            "Leave everything about withdrawals, transfers and staking off.",
            "Add your IP address to the key's IP allowlist.",
            "Generate the key and copy the API key and the private key (the secret).",
            _CHECK,
        ),
        ("Kraken lets a key expire on a date you choose; the app shows it.",),
    ),
    KeyGuide(
        "gate",
        "Gate",
        (
            "On gate.com (Gate.io), open the profile menu and choose API Management, then Create API Key.",
            "Name it and bind your IP address.",
            "Permissions: Spot trade read and write. Leave Withdraw off; leave futures, delivery, options "
            "and margin off or read-only; leave wallet and transfers off.",
            "Confirm with your security check and copy the key and the secret.",
            _CHECK,
        ),
        (
            "Gate has no explicit withdrawal flag the app can read for every key: check it yourself.",
            "Gate may expire a key that is not bound to an IP address after some time.",
        ),
    ),
    KeyGuide(
        "bitget",
        "Bitget",
        (
            "On bitget.com, open the profile menu and choose API Keys (API management), then Create API "
            "Key, system generated.",
            "Name it and choose an API passphrase.",
            "Choose read-write, and tick only the spot trading permission.",
            "Leave futures, margin, copy trading, transfers and withdrawals unticked.",
            "Bind your IP address, pass the security check, and copy the key, the secret and the "
            "passphrase you chose.",
            _CHECK,
        ),
        ("The passphrase is the API key's passphrase, not your fund password.",),
    ),
    KeyGuide(
        "htx",
        "HTX (Huobi)",
        (
            "On htx.com, open the profile menu and choose API Management.",
            "Write a note (the key's name). Permissions: Read-only is always on; tick Trade. Leave "
            "Withdraw unticked.",
            "Bind your IP address.",
            "Create it, pass the security check, and copy the Access Key and the Secret Key.",
            _CHECK,
        ),
        ("HTX may expire a key that is not bound to an IP address; the app shows its expiry when told.",),
    ),
    KeyGuide(
        "mexc",
        "MEXC",
        (
            "On mexc.com, open the profile menu and choose API Management.",
            "Under Spot, tick the account (view) and trade (place and cancel orders) permissions. Leave "
            "withdrawal and futures permissions unticked.",
            "Link your IP address.",
            "Create it, pass the security check, and copy the Access Key and the Secret Key.",
            _CHECK,
        ),
        (
            "MEXC gives apps no way to read a key's permissions, so the app cannot check them: check them "
            "yourself on the API Management page.",
        ),
    ),
)

GUIDES: Mapping[str, KeyGuide] = MappingProxyType({g.exchange_id: g for g in _GUIDES})
"""The exchange-specific guides by ccxt id."""

_ALIASES = MappingProxyType({"huobi": "htx", "gateio": "gate", "coinbaseadvanced": "coinbase"})


def guide_for(exchange_id: str) -> KeyGuide:
    """The guide of an exchange (ccxt id), or the generic guide."""
    exchange_id = exchange_id.strip().lower()
    return GUIDES.get(_ALIASES.get(exchange_id, exchange_id), GENERIC_GUIDE)
