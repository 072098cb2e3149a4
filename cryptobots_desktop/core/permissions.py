"""Audit rules: what an account's key may do (``KeyPermissions``), turned into warnings a person can act on.

A trading bot needs exactly: read + spot trade. Never withdrawals. The rules:

========================  ========  ===================================================================
code                      severity  when
========================  ========  ===================================================================
NOT_CHECKED               ERROR     no permission check has succeeded yet (blocks bots)
WITHDRAW_ENABLED          CRITICAL  the key may withdraw (blocks bots until the person accepts the risk)
READ_DISABLED             ERROR     the key may not read balances and orders (blocks bots)
TRADE_DISABLED            ERROR     the key may not place spot orders (blocks bots)
KEY_EXPIRED               ERROR     the key's expiry date has passed (blocks bots)
KEY_EXPIRES_SOON          WARNING   the key expires within 14 days
NO_IP_RESTRICTION         WARNING   the key works from any IP address
DERIVATIVES_ENABLED       WARNING   futures or margin enabled while only spot is used
PERMISSIONS_WIDENED       WARNING   the key gained rights since an earlier check
PERMISSIONS_UNKNOWN       INFO      the exchange does not say some of it: check yourself, with the guide
========================  ========  ===================================================================

An unknown (``None``) capability is never treated as safe: it gives PERMISSIONS_UNKNOWN, never silence.
Pure functions: ``audit`` and ``can_start_bot`` take the time as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum

from cryptobots_desktop.core.accounts import Account
from cryptobots_desktop.core.key_permissions import KeyPermissions

DAY_MS = 86_400_000
EXPIRY_WARNING_DAYS = 14

WITHDRAWAL_RISK_TEXT = (
    "This API key may withdraw funds from the exchange account. A bot never needs that. If this key "
    "leaks (through malware, a backup, or a bug in any program that holds it), whoever has it can send "
    "everything in the account to an address of their choosing, and nobody can reverse that. "
    "The safe way is a new key without withdrawals: the guide shows how. If you still want to use this "
    "key, type the account's name to confirm you accept that risk. If the key later gains any other "
    "right, you will be asked again."
)
"""What the accept-risk dialog says, in full, above the field where the person types the label."""


class Severity(IntEnum):
    """How bad a warning is; ordered, so ``max()`` gives the worst."""

    INFO = 10
    WARNING = 20
    ERROR = 30
    CRITICAL = 40


class WarningCode(StrEnum):
    """What a warning is about (stable: the window and the tray key on it)."""

    NOT_CHECKED = "not_checked"
    WITHDRAW_ENABLED = "withdraw_enabled"
    READ_DISABLED = "read_disabled"
    TRADE_DISABLED = "trade_disabled"
    KEY_EXPIRED = "key_expired"
    KEY_EXPIRES_SOON = "key_expires_soon"
    NO_IP_RESTRICTION = "no_ip_restriction"
    DERIVATIVES_ENABLED = "derivatives_enabled"
    PERMISSIONS_WIDENED = "permissions_widened"
    PERMISSIONS_UNKNOWN = "permissions_unknown"


@dataclass(frozen=True, slots=True)
class KeyWarning:
    """One finding about an account's key: what it is, why it matters, and what to do about it."""

    code: WarningCode
    severity: Severity
    title: str
    explanation: str
    action: str
    blocks_bots: bool = False  # True: no bot may start on the account while this stands
    show_guide: bool = False  # True: the exchange's "how to make a safe key" guide answers it
    fields: tuple[str, ...] = ()  # the KeyPermissions fields concerned


_CAPABILITY_NAMES = {
    "read": "reading balances and orders",
    "spot_trade": "spot trading",
    "margin": "margin trading",
    "futures": "futures trading",
    "withdraw": "withdrawals",
    "ip_restricted": "an IP address restriction",
    "ip_unrestricted": "use from any IP address",
    "expiry": "when the key expires",
}


def describe(names: tuple[str, ...]) -> str:
    """KeyPermissions field names as words: ``("withdraw", "futures")`` -> "withdrawals, futures trading"."""
    return ", ".join(_CAPABILITY_NAMES.get(n, n) for n in names)


def _days(ms: int) -> int:
    return max(0, -(-ms // DAY_MS))  # whole days, rounded up


def audit_permissions(
    permissions: KeyPermissions, now_ms: int, *, spot_only: bool = True
) -> list[KeyWarning]:
    """The warnings one reading of a key gives on its own (no acceptance or history considered).

    WITHDRAW_ENABLED here always blocks bots; ``audit`` lifts that when the person accepted the risk.
    """
    found: list[KeyWarning] = []
    if permissions.withdraw is True:
        found.append(_withdraw_warning(accepted_ms=None))
    if permissions.read is False:
        found.append(
            KeyWarning(
                WarningCode.READ_DISABLED,
                Severity.ERROR,
                "The key may not read the account",
                "Without reading balances and orders, bots cannot see what they hold or whether their "
                "orders filled.",
                "Edit the key on the exchange and enable reading (it is often called Read or View).",
                blocks_bots=True,
                show_guide=True,
                fields=("read",),
            )
        )
    if permissions.spot_trade is False:
        found.append(
            KeyWarning(
                WarningCode.TRADE_DISABLED,
                Severity.ERROR,
                "The key may not trade",
                "Spot trading is not enabled for this key, so bots cannot place orders with it.",
                "Edit the key on the exchange and enable spot trading (and nothing more), or make a new "
                "key as the guide shows.",
                blocks_bots=True,
                show_guide=True,
                fields=("spot_trade",),
            )
        )
    if permissions.expires_ms is not None:
        left = permissions.expires_ms - now_ms
        if left <= 0:
            found.append(
                KeyWarning(
                    WarningCode.KEY_EXPIRED,
                    Severity.ERROR,
                    "The key has expired",
                    "The exchange no longer accepts this key, so bots cannot trade with it.",
                    "Make a new key on the exchange (the guide shows how) and replace it here.",
                    blocks_bots=True,
                    show_guide=True,
                    fields=("expires_ms",),
                )
            )
        elif left <= EXPIRY_WARNING_DAYS * DAY_MS:
            days = _days(left)
            found.append(
                KeyWarning(
                    WarningCode.KEY_EXPIRES_SOON,
                    Severity.WARNING,
                    f"The key expires in {days} day{'s' if days != 1 else ''}",
                    "When it expires the exchange refuses it and bots using this account stop trading.",
                    "Make a new key before then (on some exchanges a key bound to your IP address does "
                    "not expire) and replace it here.",
                    show_guide=True,
                    fields=("expires_ms",),
                )
            )
    if permissions.ip_restricted is False:
        found.append(
            KeyWarning(
                WarningCode.NO_IP_RESTRICTION,
                Severity.WARNING,
                "The key works from any IP address",
                "If the key leaks, it can be used from anywhere in the world. Restricted to your own IP "
                "address, a stolen key is useless elsewhere.",
                "On the exchange, edit the key and restrict it to your IP address (search the web for "
                "'what is my IP' to see it). If your address changes often, weigh that against the risk.",
                show_guide=True,
                fields=("ip_restricted",),
            )
        )
    derivatives = tuple(n for n in ("margin", "futures") if getattr(permissions, n) is True)
    if spot_only and derivatives:
        found.append(
            KeyWarning(
                WarningCode.DERIVATIVES_ENABLED,
                Severity.WARNING,
                f"The key may also use {describe(derivatives)}",
                "Bots here trade spot only. A key that may borrow or trade futures can lose more than the "
                "account holds if it is misused.",
                f"Edit the key on the exchange and turn off {describe(derivatives)}.",
                show_guide=True,
                fields=derivatives,
            )
        )
    unknown = _unknown_fields(permissions)
    if unknown:
        found.append(_unknown_warning(permissions, unknown))
    return found


def _unknown_fields(permissions: KeyPermissions) -> tuple[str, ...]:
    names = ("read", "spot_trade", "withdraw", "margin", "futures", "ip_restricted")
    unknown = [n for n in names if getattr(permissions, n) is None]
    if permissions.expires_ms is None and not permissions.expiry_known:
        unknown.append("expiry")
    return tuple(unknown)


def _unknown_warning(permissions: KeyPermissions, unknown: tuple[str, ...]) -> KeyWarning:
    if permissions.fully_unknown:
        title = "The exchange does not say what this key may do"
        explanation = (
            "This exchange gives apps no way to read a key's permissions, so nothing here is checked. "
            "That does not mean the key is safe."
        )
    else:
        title = f"The exchange does not say: {describe(unknown)}"
        explanation = (
            f"The exchange's answer leaves out {describe(unknown)}. That part is unchecked, not safe."
        )
    return KeyWarning(
        WarningCode.PERMISSIONS_UNKNOWN,
        Severity.INFO,
        title,
        explanation,
        "Check it yourself on the exchange's API page: reading and spot trading on, withdrawals, futures "
        "and margin off, restricted to your IP address. The guide shows where.",
        show_guide=True,
        fields=unknown,
    )


def _withdraw_warning(accepted_ms: int | None) -> KeyWarning:
    if accepted_ms is None:
        return KeyWarning(
            WarningCode.WITHDRAW_ENABLED,
            Severity.CRITICAL,
            "The key may withdraw funds",
            "Anyone who gets this key can move everything out of the exchange account. No bot needs "
            "withdrawals. Bots will not start on this account until you deal with it.",
            "Best: make a new key without withdrawals (the guide shows how) and replace this one. "
            "Otherwise accept the risk explicitly by typing the account's name.",
            blocks_bots=True,
            show_guide=True,
            fields=("withdraw",),
        )
    return KeyWarning(
        WarningCode.WITHDRAW_ENABLED,
        Severity.CRITICAL,
        "The key may withdraw funds (risk accepted)",
        "You accepted that this key may withdraw funds. Anyone who gets it can still move everything out "
        "of the exchange account.",
        "Replace it with a key without withdrawals when you can (the guide shows how).",
        show_guide=True,
        fields=("withdraw",),
    )


def audit(account: Account, now_ms: int, *, spot_only: bool = True) -> list[KeyWarning]:
    """Every warning about an account's key, worst first.

    Adds to ``audit_permissions``: NOT_CHECKED before the first check, the risk acceptance (a valid one
    lifts the withdrawal block; one made before the key gained rights does not), and PERMISSIONS_WIDENED.
    """
    permissions = account.permissions
    if permissions is None:
        return [
            KeyWarning(
                WarningCode.NOT_CHECKED,
                Severity.ERROR,
                "The key has not been checked",
                "The app has not yet read from the exchange what this key may do, so bots cannot use it.",
                "Check the key (Accounts, Re-check). If the check fails, its message says why.",
                blocks_bots=True,
            )
        ]
    found = audit_permissions(permissions, now_ms, spot_only=spot_only)
    acceptance = account.risk_acceptance
    if permissions.withdraw is True and acceptance is not None and acceptance.covers(permissions):
        found = [
            _withdraw_warning(acceptance.accepted_ms) if w.code is WarningCode.WITHDRAW_ENABLED else w
            for w in found
        ]
    elif permissions.withdraw is True and acceptance is not None:
        gained = permissions.widened_since(acceptance.permissions)
        found = [
            replace(
                w,
                explanation=f"You accepted this key's withdrawal risk earlier, but it has since gained "
                f"{describe(gained)}; the acceptance no longer covers it. Bots will not start on this "
                f"account until you accept again or replace the key.",
            )
            if w.code is WarningCode.WITHDRAW_ENABLED
            else w
            for w in found
        ]
    if account.widened:
        found.append(
            KeyWarning(
                WarningCode.PERMISSIONS_WIDENED,
                Severity.WARNING,
                "The key gained permissions",
                f"Since an earlier check this key has gained {describe(account.widened)}. If you did not "
                f"change it yourself, someone else may have access to your exchange account.",
                "Check the key on the exchange. If you did not change it, delete the key there, change "
                "your exchange password and make a new key.",
                show_guide=True,
                fields=account.widened,
            )
        )
    return sorted(found, key=lambda w: w.severity, reverse=True)


def needs_risk_acceptance(account: Account) -> bool:
    """True when the key may withdraw and no acceptance covers what it may do now."""
    permissions = account.permissions
    if permissions is None or permissions.withdraw is not True:
        return False
    acceptance = account.risk_acceptance
    return acceptance is None or not acceptance.covers(permissions)


def worst(warnings: list[KeyWarning]) -> Severity | None:
    """The highest severity among ``warnings`` (None when there are none): the tray's colour."""
    return max((w.severity for w in warnings), default=None)


def can_start_bot(account: Account, now_ms: int) -> tuple[bool, str]:
    """Whether a bot may start on the account now; when not, the sentence that says why."""
    blocking = [w for w in audit(account, now_ms) if w.blocks_bots]
    if not blocking:
        return True, ""
    first = blocking[0]
    return False, f"{first.title}. {first.action}"
