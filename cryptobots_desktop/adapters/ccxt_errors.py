"""The one place where what ccxt raises becomes a domain error a person understands.

ccxt's exception classes alone mislead (ccxt 4.5.90: Binance's -2015 arrives as ``DDoSProtection`` after a
first successful private call; -1013 is split between ``BadRequest`` and ``InvalidOrder``; -2010 covers
insufficient funds, duplicate ids and disabled trading), so the exchange's own code and message, which
ccxt keeps in the exception text as the exchange's JSON body, decide first and the class only after.

No text from ccxt reaches a person unscrubbed: ccxt puts request URLs (with query strings and
signatures) into some messages. ``scrub`` removes query strings, signatures and any credential string;
the domain error keeps only the exchange's own code and message.

An exchange that answered (an HTTP 5xx, a JSON "internal error", maintenance) is down, not unreachable:
only a request that got no answer at all (refused, timed out, no such host, connection dropped) says
"could not be reached". An order under a pair's minimums gets the same sentences
(``order_minimums``) whether the exchange refused it, ccxt did before sending, or the gateway's own check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ccxt.async_support as ccxt

from cryptobots_desktop.adapters.order_minimums import amount_below_minimum, fmt, notional_below_minimum
from cryptobots_desktop.core.errors import (
    AuthenticationFailed,
    ClockOutOfSync,
    DuplicateClientOrderId,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    KeyNotPermitted,
    MalformedResponse,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    UnknownPair,
)
from cryptobots_desktop.core.market import Market

_URL_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")
_SIGNATURE = re.compile(r"(signature|sign|apikey|api_key|passphrase|secret)=[^&\s\"']*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]$")

_MISSING_CREDENTIAL = re.compile(r'requires "(\w+)" credential')
# ccxt's text for an HTTP error status: "<id> <METHOD> <url> <status> <reason> <body>"; a request that got no
# answer is "<id> <METHOD> <url>" alone
_HTTP_STATUS = re.compile(r"^\S+ (?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \S+ (\d{3})\b")
# ccxt refuses client-side an amount that truncates to nothing at the market's step (InvalidOrder, no code)
_UNDER_AMOUNT_PRECISION = re.compile(r"amount of \S+ must be greater than minimum amount precision")
_NAMES_IP = re.compile(r"\bip\b", re.IGNORECASE)  # "Unmatched IP", "Invalid IP", "ip address is not in..."
# The same refusals on other exchanges (KuCoin 400xxx, Bitget 400xx, Bybit 100xx; no clash with the above)
_KEY_UNKNOWN = (-2014, 50111, 400003, 40006, 40037, 10003)
_BAD_SIGNATURE = (-1022, 50113, 400005, 40009, 40010, 10004)
_IP_REFUSED = (50110, 400006, 40018, 10010)  # OKX, KuCoin, Bitget, Bybit: the IP, and only the IP
CREDENTIAL_NAMES = {
    "apiKey": "API key",
    "secret": "API secret",
    "password": "API passphrase",
    "uid": "user id (UID)",
    "privateKey": "private key",
    "walletAddress": "wallet address",
    "token": "token",
}
PASSPHRASE_HINT = (
    "It is the passphrase you chose when you created this API key, not your account's login or trading "
    "password."
)
KEY_HINT = "Check the API key and secret in the account's settings (copy them again from the exchange)."
CLOCK_HINT = (
    "Turn on automatic date and time in your system settings; the app re-synchronised with the exchange "
    "and tried again once."
)
DOWN_HINT = (
    "Nothing to change on this computer: wait a while. The app tries again by itself, and the bots carry "
    "on once the exchange answers normally."
)
UNREACHABLE_HINT = "Check your internet connection (and any firewall or proxy); the app tries again."


@dataclass(frozen=True, slots=True)
class ExchangeReply:
    """The exchange's own error code and message, as found in a ccxt exception."""

    code: int | None
    message: str


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without URL query strings, signature-like parameters or any of ``secrets``."""
    text = _URL_QUERY.sub(r"\1?…", text)
    text = _SIGNATURE.sub(r"\1=…", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return text


def exchange_reply(exc: BaseException, last_body: object = None) -> ExchangeReply:
    """The code and message of the exchange's JSON error body, if any.

    ccxt puts the body into most exception texts; for some (Binance's -2010) it keeps only the message,
    and the body is the exchange's last response, used only when its message is the exception's.
    """
    text = str(exc)
    reply = _reply_of(text[text.find("{") :] if "{" in text else None)
    if reply.code is None and isinstance(last_body, str):
        found = _reply_of(last_body)
        if found.code is not None and found.message and found.message in text:
            return found
    return reply


def _reply_of(text: str | None) -> ExchangeReply:
    body: Any = None
    if text:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    if isinstance(body, dict):
        data = body.get("data")
        if (
            isinstance(data, list)
            and data
            and isinstance(data[0], dict)
            and data[0].get("sCode")
            not in (
                None,
                "0",
            )
        ):  # OKX: an order's own refusal sits in data[0].sCode/sMsg under code "1"
            return ExchangeReply(_int(data[0].get("sCode")), str(data[0].get("sMsg") or ""))
        code = body.get("code", body.get("retCode"))  # Bybit: retCode/retMsg
        message = body.get("msg") or body.get("message") or body.get("retMsg") or body.get("err-msg")  # HTX
        errors = body.get("error")  # Kraken: {"error": ["EAPI:Invalid key"]}
        if not message and isinstance(errors, list) and errors:
            message = "; ".join(str(e) for e in errors)
        return ExchangeReply(_int(code), str(message or ""))
    return ExchangeReply(None, "")


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The ``Retry-After`` header (seconds) of the last response, which ccxt does not honour itself."""
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or _SENTENCE_END.search(text) else text + "."


def http_status(exc: BaseException) -> int | None:
    """The HTTP status the exchange answered with, when ccxt raised for the status (None: no answer)."""
    found = _HTTP_STATUS.match(str(exc))
    return int(found.group(1)) if found else None


def unknown_pair(exchange: str, pair: str, **kw: Any) -> UnknownPair:
    """The exchange does not trade ``pair`` on its spot market."""
    return UnknownPair(
        f"{exchange} does not trade {pair} on its spot market.",
        f"Choose one of {exchange}'s spot pairs, written base/quote like BTC/USDT (the pair list in the "
        "bot's settings shows them).",
        **kw,
    )


def translate(
    exc: BaseException,
    *,
    exchange: str,
    market: Market | None = None,
    symbol: str | None = None,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    body: object = None,
) -> ExchangeError:
    """The domain error for what ccxt raised talking to ``exchange`` (its display name).

    ``body`` is the exchange's last response body, ``headers`` its headers (for ``Retry-After``).
    """
    reply = exchange_reply(exc, body)
    code = reply.code
    words = scrub(reply.message, secrets)
    kw: dict[str, Any] = {"exchange_code": code, "exchange_message": words or None}
    said = f" ({exchange} said: {_sentence(words)})" if words else ""
    lowered = words.lower()
    pair = symbol or (market.symbol if market else "this pair")

    # -- the key, the secret, the passphrase, the clock -------------------------------------------------
    missing = _MISSING_CREDENTIAL.search(str(exc)) if isinstance(exc, ccxt.AuthenticationError) else None
    if missing is not None:  # ccxt refuses before sending anything
        what = CREDENTIAL_NAMES.get(missing.group(1), missing.group(1))
        hint = PASSPHRASE_HINT if missing.group(1) == "password" else KEY_HINT
        return AuthenticationFailed(f"{exchange} needs this key's {what}.", hint)
    if code in _KEY_UNKNOWN:
        return AuthenticationFailed(f"{exchange} does not recognise this API key.", KEY_HINT, **kw)
    if code in _BAD_SIGNATURE:
        return AuthenticationFailed(
            f"{exchange} says the request's signature is invalid: the API secret does not belong to "
            "this key.",
            KEY_HINT,
            **kw,
        )
    if code in (50104, 40011):
        return AuthenticationFailed(f"{exchange} needs this key's API passphrase.", PASSPHRASE_HINT, **kw)
    if code in (50105, 400004):
        return AuthenticationFailed(f"{exchange} says the API passphrase is wrong.", PASSPHRASE_HINT, **kw)
    if code == -2015:
        return KeyNotPermitted(
            f"{exchange} refused this API key for this request: the key is wrong, this computer's IP "
            "address is not on the key's whitelist, or the key lacks the permission." + said,
            "Check the key, that this computer's IP address is on its whitelist (or that it has none), and "
            "that it allows reading and spot trading.",
            **kw,
        )
    if code == 40012:  # Bitget: "apikey/password is incorrect"
        return AuthenticationFailed(
            f"{exchange} says the API key or its API passphrase is wrong.", PASSPHRASE_HINT, **kw
        )
    if code in _IP_REFUSED or (isinstance(exc, ccxt.AuthenticationError) and _NAMES_IP.search(words)):
        return KeyNotPermitted(
            f"{exchange} refused this computer's IP address: it is not on the API key's IP whitelist.{said}",
            "Add this computer's IP address to the key's whitelist on the exchange, or use a key for it.",
            **kw,
        )
    timestamp = isinstance(exc, ccxt.AuthenticationError) and "timestamp" in lowered  # Gate REQUEST_EXPIRED
    if code in (-1021, 50102, 50112) or isinstance(exc, ccxt.InvalidNonce) or timestamp:
        return ClockOutOfSync(
            f"{exchange} refused the request because this computer's clock is out of sync with the "
            "exchange's.",
            CLOCK_HINT,
            **kw,
        )
    # -- rate limits, outages ----------------------------------------------------------------------------
    status = http_status(exc)
    if code in (-1003, 50011, 50061) or isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        wait = retry_after_seconds(headers)
        hint = f"The app waits {wait:g} s before its next request." if wait else "The app slows down."
        if status == 418 or "banned" in lowered:  # Binance: 418 after a 429 was not heeded
            return RateLimited(
                f"{exchange} has blocked this computer's IP address for a while: too many requests.",
                hint,
                retry_after=wait,
                **kw,
            )
        return RateLimited(
            f"{exchange} asked the app to slow down (too many requests).", hint, retry_after=wait, **kw
        )
    if code in (-1007,):
        return ExchangeUnavailable(
            f"{exchange} did not say whether the request was carried out (execution status unknown).",
            "The app checks the order by its client order id before anything else.",
            **kw,
        )
    network = isinstance(exc, ccxt.OperationFailed) and not isinstance(exc, ccxt.BadResponse)
    if (
        isinstance(exc, ccxt.OnMaintenance)
        or code in (50001, -1016, -1001)  # OKX and Binance: unavailable, maintenance, internal error
        or (status is not None and status >= 500)
        or (network and status is None and code is not None)  # a JSON answer ccxt calls a network error
    ):  # the exchange answered, and the trouble is on its side
        return ExchangeUnavailable(f"{exchange} is down or under maintenance.{said}", DOWN_HINT, **kw)
    # -- pairs and orders ----------------------------------------------------------------------------------
    if code in (-1121, 51001) or isinstance(exc, ccxt.BadSymbol):
        return unknown_pair(exchange, pair, **kw)
    if (code in (-2010, 51016) and "duplicate" in lowered) or isinstance(exc, ccxt.DuplicateOrderId):
        return DuplicateClientOrderId(
            f"{exchange} already has an open order with this client order id; nothing new was placed.",
            "The app looks that order up by its client order id and follows it instead of sending another.",
            **kw,
        )
    if "insufficient" in lowered or code in (51008,) or isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds(
            f"Not enough free balance on {exchange} for this order.",
            "Free some funds (cancel orders, deposit) or make the bot's orders smaller.",
            **kw,
        )
    if code in (-2013, -2011, 51603) or isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(
            f"{exchange} knows no such order.",
            "It was never placed, or it is too old for the exchange to show; the app checks its open "
            f"orders with {exchange} again.",
            **kw,
        )
    if code == -1013 or "filter failure" in lowered or code in (51020, 51021):
        return _filter_failure(exchange, market, pair, lowered, said, kw)
    if isinstance(exc, ccxt.InvalidOrder) and _UNDER_AMOUNT_PRECISION.search(str(exc)):
        return amount_below_minimum(exchange, market, **kw)  # ccxt refused it before sending
    if isinstance(exc, ccxt.PermissionDenied) or "not enabled" in lowered or "disabled" in lowered:
        return KeyNotPermitted(
            f"{exchange} does not let this API key do this.{said}",
            "Allow reading and spot trading on the key (never withdrawals).",
            **kw,
        )
    if isinstance(exc, ccxt.AuthenticationError):
        return AuthenticationFailed(f"{exchange} refused the credentials.{said}", KEY_HINT, **kw)
    if isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest | ccxt.OperationRejected):
        return OrderRejected(f"{exchange} rejected the request.{said}", _rejected_hint(exchange, pair), **kw)
    if isinstance(exc, ccxt.BadResponse):
        return MalformedResponse(
            f"{exchange} answered something the app cannot read.", "The app checks again shortly.", **kw
        )
    if network and status is not None:  # 403, 404, 451... without a code
        return ExchangeUnavailable(
            f"{exchange} answered with an error (HTTP {status}) instead of carrying out the request.{said}",
            "Try again later. If it keeps happening, the exchange may be refusing this computer's network "
            "or location (a VPN, a proxy, a country it does not serve): look at its website.",
            **kw,
        )
    if network:  # no answer at all: refused, timed out, no such host, dropped
        return ExchangeUnavailable(
            f"{exchange} could not be reached or did not answer in time.", UNREACHABLE_HINT, **kw
        )
    if isinstance(exc, ValueError):  # a JSON or number that does not parse
        return MalformedResponse(
            f"{exchange} answered something the app cannot read.", "The app checks again shortly.", **kw
        )
    return ExchangeError(
        f"{exchange} refused the request.{said}",
        f"Try again in a moment; if it keeps happening, look at the account on {exchange}'s website.",
        **kw,
    )


def _rejected_hint(exchange: str, pair: str) -> str:
    return (
        f"Check the order against {exchange}'s rules for {pair} (amount, price, free funds) and what the "
        "exchange said, then change the bot's settings."
    )


def _filter_failure(
    exchange: str, market: Market | None, pair: str, lowered: str, said: str, kw: dict[str, Any]
) -> ExchangeError:
    if "notional" in lowered:
        return notional_below_minimum(exchange, market, said=said, **kw)
    if "lot_size" in lowered or "quantity" in lowered or "amount" in lowered:
        return amount_below_minimum(exchange, market, said=said, **kw)
    if "price" in lowered:
        tick = f" (tick {fmt(market.price_tick)} {market.quote})" if market else ""
        return OrderRejected(
            f"{exchange} does not accept this price for {pair}{tick}.{said}",
            "Use a price that is a whole number of ticks, inside the pair's price limits.",
            **kw,
        )
    return OrderRejected(f"{exchange} rejected the order.{said}", _rejected_hint(exchange, pair), **kw)
