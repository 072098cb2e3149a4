"""API credentials at rest in the OS keyring: the only code that stores or reads a secret.

One keyring entry per account: service ``cryptobots-desktop``, user name the account id, and as the
password a small JSON object with the key, secret, passphrase and uid (one entry keeps them atomic: an
edit replaces all of them at once; a Coinbase PEM secret fits well within Windows' 2.5 kB limit).

Only the OS's own stores are used: Secret Service (GNOME Keyring, KWallet 5.97+, KeePassXC), KWallet,
libsecret, Windows Credential Manager, macOS Keychain. Anything else (keyring's ``fail`` and ``null``
backends, ``keyrings.alt`` plaintext/"encrypted" files, any backend with priority below 1, a chainer with
nothing usable) is refused with a message saying how to fix it. There is no fallback to a file.

Every keyring call blocks (D-Bus, Keychain, Credential Manager): the async methods run them in a worker
thread; the ``*_sync`` methods are for code already in one. Whatever the keyring raises becomes
``VaultUnavailable`` with a scrubbed message, raised without the original exception attached.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from cryptobots_desktop.core.accounts import check_account_id
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import VaultProblem, VaultUnavailable
from cryptobots_desktop.core.ports import SecretVault, VaultStatus

log = logging.getLogger(__name__)

SERVICE_NAME = "cryptobots-desktop"
ENTRY_VERSION = 1

TRUSTED_BACKEND_MODULES = (
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
    "keyring.backends.Windows",
    "keyring.backends.macOS",
)
"""keyring's backends for the OS's own secret stores; no other backend is trusted with API keys."""

_INSECURE_MARKERS = ("alt", "file", "plaintext", "null", "fail")
_STATUS_PROBE_USER = "~status-check"  # a user name no account id can be (core.accounts.ACCOUNT_ID_PATTERN)

T = TypeVar("T")


def _backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _judge(backend: KeyringBackend) -> tuple[VaultProblem, str] | None:
    """None when the backend is an OS secret store we trust; else the problem and a reason."""
    name = _backend_name(backend)
    if isinstance(backend, fail.Keyring | null.Keyring):
        return VaultProblem.NO_KEYRING, f"keyring chose {name}"
    try:
        priority = float(backend.priority)
    except Exception as exc:  # keyring backends raise anything when their service is absent
        return VaultProblem.NO_KEYRING, f"{name} is not usable: {type(exc).__name__}: {exc}"
    lowered = name.lower()
    if any(marker in lowered for marker in _INSECURE_MARKERS) or lowered.startswith("keyrings.alt"):
        return VaultProblem.INSECURE_BACKEND, f"{name} keeps secrets in a file or not at all"
    if priority < 1:
        return VaultProblem.INSECURE_BACKEND, f"{name} has priority {priority}: keyring does not recommend it"
    if not type(backend).__module__.startswith(TRUSTED_BACKEND_MODULES):
        return VaultProblem.INSECURE_BACKEND, f"{name} is not one of the OS's own secret stores"
    return None


def _messages(problem: VaultProblem, platform: str, detail: str) -> tuple[str, str]:
    linux = platform.startswith(("linux", "freebsd", "openbsd"))
    store = (
        "Windows Credential Manager"
        if platform.startswith("win")
        else "the macOS Keychain"
        if platform == "darwin"
        else "the system keyring"
    )
    if problem is VaultProblem.NO_KEYRING:
        message = "No system keyring is available, so API keys cannot be stored safely."
        hint = (
            "Install and start GNOME Keyring (package gnome-keyring) or KWallet, in a desktop session "
            "that runs it, then restart the app."
            if linux
            else f"{store} did not answer. Restart the app; if it persists, restart the computer."
        )
    elif problem is VaultProblem.LOCKED:
        message = f"{store[0].upper()}{store[1:]} is locked or could not be opened."
        hint = (
            "Unlock it: it normally unlocks when you log in. Otherwise open Passwords and Keys (Seahorse) "
            "or KWallet Manager, unlock the Login keyring (create one if there is none), then try again."
            if linux
            else "Unlock it with your login password when the system asks, then try again."
        )
    elif problem is VaultProblem.INSECURE_BACKEND:
        message = "The keyring backend in use is not a safe place for API keys, so the app refuses it."
        hint = (
            "Uninstall keyrings.alt if it is installed, and remove any PYTHON_KEYRING_BACKEND setting or "
            "keyringrc.cfg that chooses another backend"
            + ("; use GNOME Keyring or KWallet instead." if linux else f"; the app uses {store}.")
        )
    else:
        message = f"{store[0].upper()}{store[1:]} refused the request."
        hint = "Try again. If it keeps failing, restart the keyring (or log out and in) and the app."
    if problem is not VaultProblem.FAILED:
        message += (
            " Live accounts are unavailable; paper trading works. Keys are never kept in a file instead."
        )
    message += f" ({detail})"
    return message, hint


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and every long line of a multi-line secret) blanked, and cut short."""
    for secret in secrets:
        for part in (secret, *secret.splitlines()):
            piece = part.strip()
            if len(piece) >= 4:
                text = text.replace(piece, "•••")
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def _classify(exc: BaseException) -> VaultProblem:
    if isinstance(exc, keyring.errors.KeyringLocked | keyring.errors.InitError):
        return VaultProblem.LOCKED
    if isinstance(exc, keyring.errors.NoKeyringError):
        return VaultProblem.NO_KEYRING
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"SecretServiceNotAvailableException", "LockedException"}:
        return (
            VaultProblem.NO_KEYRING if "SecretServiceNotAvailableException" in names else VaultProblem.LOCKED
        )
    return VaultProblem.FAILED


def _encode(credentials: ApiCredentials) -> str:
    return json.dumps(
        {
            "v": ENTRY_VERSION,
            "api_key": credentials.api_key,
            "secret": credentials.secret,
            "passphrase": credentials.passphrase,
            "uid": credentials.uid,
        },
        separators=(",", ":"),
    )


def _decode(entry: str) -> ApiCredentials | None:
    """The credentials of an entry, or None when it is not one of ours (damaged, another version)."""
    try:
        data: Any = json.loads(entry)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("v") != ENTRY_VERSION:
        return None
    fields = ("api_key", "secret", "passphrase", "uid")
    if not all(isinstance(data.get(f, ""), str) for f in fields) or not data.get("api_key"):
        return None
    return ApiCredentials(*(str(data.get(f, "")) for f in fields))


class KeyringVault:
    """``core.ports.SecretVault`` over python-keyring, refusing every backend that is not an OS store.

    ``backend`` defaults to ``keyring.get_keyring()`` (what keyring chose for this system, read when
    first needed); pass one to use a particular backend. ``platform`` only picks the wording of the fix.
    """

    def __init__(
        self,
        service: str = SERVICE_NAME,
        *,
        backend: KeyringBackend | None = None,
        platform: str = sys.platform,
    ) -> None:
        self.service = service
        self._configured = backend
        self._platform = platform
        self._lock = threading.Lock()
        self._vetted: KeyringBackend | None = None

    # --- async API (core.ports.SecretVault) -------------------------------------------------------
    async def status(self) -> VaultStatus:
        return await asyncio.to_thread(self.status_sync)

    async def store(self, account_id: str, credentials: ApiCredentials) -> None:
        await asyncio.to_thread(self.store_sync, account_id, credentials)

    async def load(self, account_id: str) -> ApiCredentials | None:
        return await asyncio.to_thread(self.load_sync, account_id)

    async def delete(self, account_id: str) -> None:
        await asyncio.to_thread(self.delete_sync, account_id)

    # --- blocking API: call from a worker thread ---------------------------------------------------
    def status_sync(self) -> VaultStatus:
        """Whether the keyring is usable: a trusted backend that answers a read (this may unlock it)."""
        try:
            backend = self._backend()
            self._call(lambda: backend.get_password(self.service, _STATUS_PROBE_USER))
        except VaultUnavailable as exc:
            return VaultStatus(False, self._name_for_status(), exc.problem, exc.message, exc.hint)
        return VaultStatus(True, backend.name)

    def store_sync(self, account_id: str, credentials: ApiCredentials) -> None:
        """Save or replace the account's credentials (one entry: all fields together)."""
        check_account_id(account_id)
        backend = self._backend()
        self._call(lambda: backend.set_password(self.service, account_id, _encode(credentials)), credentials)
        log.info("Stored the API credentials of account %s in %s", account_id, backend.name)

    def load_sync(self, account_id: str) -> ApiCredentials | None:
        """The account's credentials, or None when there are none."""
        check_account_id(account_id)
        backend = self._backend()
        entry = self._call(lambda: backend.get_password(self.service, account_id))
        if entry is None:
            return None
        credentials = _decode(entry)
        if credentials is None:
            message, hint = (
                f"The keyring entry of account {account_id} is damaged or was written by another program.",
                "Enter the account's API key again (Accounts, Edit).",
            )
            raise VaultUnavailable(message, hint, problem=VaultProblem.FAILED)
        return credentials

    def delete_sync(self, account_id: str) -> None:
        """Remove every entry of the account; none is fine."""
        check_account_id(account_id)
        backend = self._backend()

        def delete_all() -> None:
            for _ in range(5):  # a store may hold duplicates written by another tool: remove them all
                if backend.get_password(self.service, account_id) is None:
                    return
                try:
                    backend.delete_password(self.service, account_id)
                except keyring.errors.PasswordDeleteError:
                    if backend.get_password(self.service, account_id) is None:
                        return
                    raise
            raise keyring.errors.PasswordDeleteError("entries remain after 5 deletions")

        self._call(delete_all)
        log.info("Deleted the API credentials of account %s", account_id)

    # --- inside --------------------------------------------------------------------------------------
    def _name_for_status(self) -> str:
        try:
            return _backend_name(self._configured or keyring.get_keyring())
        except Exception:
            return "unknown"

    def _backend(self) -> KeyringBackend:
        """The trusted backend to use, vetted once; raises ``VaultUnavailable`` naming the fix."""
        with self._lock:
            if self._vetted is not None:
                return self._vetted
            failure: tuple[VaultProblem, str] | None = None
            try:
                chosen = self._configured or keyring.get_keyring()
            except Exception as exc:
                failure = (VaultProblem.FAILED, f"keyring could not choose a backend: {type(exc).__name__}")
            else:
                candidates: list[KeyringBackend] = (
                    list(chosen.backends) if isinstance(chosen, chainer.ChainerBackend) else [chosen]
                )
                for candidate in candidates:
                    verdict = _judge(candidate)
                    if verdict is None:
                        self._vetted = candidate
                        return candidate
                    failure = failure or verdict
                if failure is None:
                    failure = (VaultProblem.NO_KEYRING, "keyring found no backend at all")
        problem, detail = failure
        message, hint = _messages(problem, self._platform, _scrub(detail, ()))
        log.warning("Keyring unavailable: %s", message)
        raise VaultUnavailable(message, hint, problem=problem)

    def _call(self, operation: Callable[[], T], credentials: ApiCredentials | None = None) -> T:
        """Run a keyring operation; any failure becomes a scrubbed ``VaultUnavailable`` with no cause.

        It is raised after the ``except`` block, so neither the keyring's exception nor its traceback
        (whose frames may hold the entry being written) stays attached to it.
        """
        try:
            return operation()
        except Exception as exc:
            problem = _classify(exc)
            detail = _scrub(f"{type(exc).__name__}: {exc}", credentials.secrets if credentials else ())
        with self._lock:
            self._vetted = None  # vet again next time: the keyring may have gone, or been unlocked
        message, hint = _messages(problem, self._platform, detail)
        log.warning("Keyring request failed: %s", message)
        raise VaultUnavailable(message, hint, problem=problem)


_PORT: type[SecretVault] = KeyringVault  # mypy checks that the class implements the port
