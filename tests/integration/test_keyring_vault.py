"""The keyring vault against the real Secret Service (gnome-keyring started by scripts/desktop-session.sh).

Nothing here mocks keyring: the happy path talks to gnome-keyring over D-Bus; the unavailable, locked and
insecure cases run the vault in a subprocess with no session bus, with a locked gnome-keyring of its
own, or with keyring's own fail/null backends and small plaintext-style backends set by
``keyring.set_keyring`` — and check that nothing was written anywhere instead.
Run: xvfb-run -a dbus-run-session -- bash scripts/desktop-session.sh .venv/bin/python -m pytest ...
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import SecretService

from cryptobots_desktop.adapters.keyring_vault import SERVICE_NAME, KeyringVault
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import VaultProblem, VaultUnavailable

ROOT = Path(__file__).resolve().parents[2]
SENTINEL = "S3NT1NEL-9f27c4d1e8b6-secret"
SENTINEL_KEY = "K3YSENTINEL-4b1d9e7a2c05"
SENTINEL_PASS = "PASSSENTINEL-61c0"
PEM = (
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oKiHcnb3Ex2JoAoGCCqGSM49\n"
    "AwEHoUQDQgAEGYpEUtNoJcA3GNkDZM1QdF8tBlWSlqIGnYz6AwM2qHRCSB2Ujdbh\n-----END EC PRIVATE KEY-----\n"
)


@pytest.fixture(scope="module")
def secret_service() -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") or not isinstance(
        keyring.get_keyring(), SecretService.Keyring
    ):
        pytest.fail(
            "these tests need the real Secret Service: run them under "
            "`dbus-run-session -- bash scripts/desktop-session.sh` (scripts/test.sh does)"
        )


@pytest.fixture
def vault(secret_service: None, request: pytest.FixtureRequest) -> Iterator[KeyringVault]:
    service = f"{SERVICE_NAME}-test-{request.node.name}"[:120]
    v = KeyringVault(service)
    yield v
    for account in ("binance-1", "okx-1", "coinbase-1"):
        v.delete_sync(account)


def _items(service: str, account: str) -> list[str]:
    """The entries the Secret Service holds for (service, account), read with secretstorage directly."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        found = collection.search_items({"service": service, "username": account})
        return [item.get_secret().decode("utf-8") for item in found]
    finally:
        connection.close()


def test_keyrings_alt_is_not_installed() -> None:
    """Where no Secret Service runs, keyrings.alt would silently become the default: a plaintext file."""
    assert importlib.util.find_spec("keyrings") is None or importlib.util.find_spec("keyrings.alt") is None


def test_the_backend_is_the_secret_service(vault: KeyringVault) -> None:
    assert type(keyring.get_keyring()) is SecretService.Keyring
    status = vault.status_sync()
    assert status.available and status.backend == "SecretService Keyring" and status.problem is None


def test_store_read_replace_delete(vault: KeyringVault, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    first = ApiCredentials(SENTINEL_KEY, SENTINEL, SENTINEL_PASS)
    vault.store_sync("okx-1", first)
    assert vault.load_sync("okx-1") == first
    [entry] = _items(vault.service, "okx-1")  # one entry holds every field
    assert json.loads(entry) == {
        "v": 1, "api_key": SENTINEL_KEY, "secret": SENTINEL, "passphrase": SENTINEL_PASS, "uid": ""
    }  # fmt: skip

    second = ApiCredentials(SENTINEL_KEY + "2", SENTINEL + "2")
    vault.store_sync("okx-1", second)
    assert vault.load_sync("okx-1") == second
    assert len(_items(vault.service, "okx-1")) == 1  # replaced, not added

    vault.store_sync("binance-1", ApiCredentials("BINANCEKEY12345678", "BINANCESECRET"))
    vault.delete_sync("okx-1")
    assert vault.load_sync("okx-1") is None and _items(vault.service, "okx-1") == []
    vault.delete_sync("okx-1")  # nothing to delete is fine
    assert vault.load_sync("binance-1") == ApiCredentials("BINANCEKEY12345678", "BINANCESECRET")

    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "okx-1" in logged  # the account id is logged, nothing secret is
    for secret in (SENTINEL, SENTINEL_KEY, SENTINEL_PASS):
        assert secret not in logged


def test_a_coinbase_pem_secret_round_trips(vault: KeyringVault) -> None:
    creds = ApiCredentials("organizations/0b1c2d3e/apiKeys/9f8e7d6c", PEM)
    vault.store_sync("coinbase-1", creds)
    assert vault.load_sync("coinbase-1") == creds


def test_async_methods(vault: KeyringVault) -> None:
    async def scenario() -> None:
        assert (await vault.status()).available
        await vault.store("binance-1", ApiCredentials(SENTINEL_KEY, SENTINEL))
        assert await vault.load("binance-1") == ApiCredentials(SENTINEL_KEY, SENTINEL)
        await vault.delete("binance-1")
        assert await vault.load("binance-1") is None

    asyncio.run(scenario())


def test_the_secret_rests_only_encrypted(vault: KeyringVault) -> None:
    """gnome-keyring writes its keyring file encrypted: the sentinel is in no file of the session."""
    vault.store_sync("binance-1", ApiCredentials(SENTINEL_KEY, SENTINEL))
    roots = [Path(os.environ[v]) for v in ("XDG_DATA_HOME", "XDG_CONFIG_HOME") if os.environ.get(v)]
    assert roots, "desktop-session.sh sets a fresh XDG_DATA_HOME and XDG_CONFIG_HOME"
    assert _files_containing(roots, SENTINEL.encode()) == []


def test_a_damaged_entry_is_reported_without_its_content(vault: KeyringVault) -> None:
    keyring.set_password(vault.service, "binance-1", f"not json {SENTINEL}")
    with pytest.raises(VaultUnavailable) as caught:
        vault.load_sync("binance-1")
    assert caught.value.problem is VaultProblem.FAILED and "damaged" in caught.value.message
    assert SENTINEL not in str(caught.value) and caught.value.__context__ is None


def test_a_keyring_error_is_scrubbed_and_detached(vault: KeyringVault) -> None:
    creds = ApiCredentials(SENTINEL_KEY, PEM)

    def failing() -> None:
        raise keyring.errors.PasswordSetError(f"could not store {SENTINEL_KEY} / {PEM}")

    with pytest.raises(VaultUnavailable) as caught:
        vault._call(failing, creds)
    text = f"{caught.value} {caught.value!r} {caught.value.hint}"
    assert SENTINEL_KEY not in text and "MHcCAQEEIBkg4LVW" not in text and "•••" in text
    assert caught.value.__context__ is None and caught.value.__cause__ is None


# --- the keyring unavailable, locked or insecure: each in a subprocess with its own environment ----------

SCRIPT_HEAD = f"""
import json, sys
from cryptobots_desktop.adapters.keyring_vault import KeyringVault
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import VaultUnavailable
CREDS = ApiCredentials({SENTINEL_KEY!r}, {SENTINEL!r}, {SENTINEL_PASS!r})

def attempt(vault):
    status = vault.status_sync()
    errors = []
    for op in (lambda: vault.store_sync("binance-1", CREDS), lambda: vault.load_sync("binance-1"),
               lambda: vault.delete_sync("binance-1")):
        try:
            op()
            errors.append(None)
        except VaultUnavailable as exc:
            errors.append({{"problem": exc.problem.value, "text": str(exc), "repr": repr(exc),
                           "context": exc.__context__ is not None or exc.__cause__ is not None}})
    return {{"available": status.available, "problem": status.problem and status.problem.value,
            "message": status.message, "hint": status.hint, "backend": status.backend, "errors": errors}}
"""


def _isolated_env(tmp_path: Path, *, keep_bus: bool = False) -> dict[str, str]:
    home = tmp_path / "home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if keep_bus:
        env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    home.mkdir()
    (tmp_path / "runtime").mkdir(mode=0o700)
    return env


def _run(script: str, env: dict[str, str], argv: list[str] | None = None) -> tuple[dict[str, object], str]:
    """Runs ``script`` (given on stdin, so no secret is on a command line); returns its JSON and output."""
    proc = subprocess.run(
        argv or [sys.executable, "-"],
        input=SCRIPT_HEAD + textwrap.dedent(script),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, proc.stdout + proc.stderr


def _files_containing(roots: list[Path], needle: bytes) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if not p.is_dir())


def _assert_refused(result: dict[str, object], output: str, problem: str) -> None:
    assert result["available"] is False and result["problem"] == problem, result
    errors = result["errors"]
    assert isinstance(errors, list) and len(errors) == 3
    for error in errors:
        assert error is not None and error["problem"] == problem and not error["context"], error
    for secret in (SENTINEL, SENTINEL_KEY, SENTINEL_PASS):
        assert secret not in output
        assert secret not in json.dumps(result)
    assert "paper trading works" in str(result["message"])
    assert "never kept in a file" in str(result["message"])


def test_no_session_bus_means_unavailable_with_the_fix_and_no_file(tmp_path: Path) -> None:
    env = _isolated_env(tmp_path)
    result, output = _run("print(json.dumps(attempt(KeyringVault())))", env)
    _assert_refused(result, output, "no_keyring")
    assert "gnome-keyring" in str(result["hint"]) and "KWallet" in str(result["hint"])
    assert _all_files(tmp_path) == []  # nothing written anywhere in HOME, XDG dirs or the runtime dir


def test_a_locked_keyring_is_reported_with_how_to_unlock_it(tmp_path: Path) -> None:
    """A gnome-keyring of its own, never unlocked, and no screen for its prompt: the prompt is dismissed."""
    env = _isolated_env(tmp_path)
    launcher = tmp_path / "locked-session.sh"
    launcher.write_text(
        textwrap.dedent(f"""\
        gnome-keyring-daemon --foreground --components=secrets >/dev/null 2>&1 &
        gkd=$!
        for _ in $(seq 200); do
          dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \\
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \\
            | grep -q "boolean true" && break
          sleep 0.05
        done
        {sys.executable} -
        rc=$?
        kill $gkd; wait $gkd 2>/dev/null
        exit $rc
        """)
    )
    result, output = _run(
        "print(json.dumps(attempt(KeyringVault())))", env, ["dbus-run-session", "--", "bash", str(launcher)]
    )
    _assert_refused(result, output, "locked")
    assert "Unlock it" in str(result["hint"])
    assert _files_containing([tmp_path], SENTINEL.encode()) == []


INSECURE_BACKENDS = """
import keyring
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

WRITES = []

class Recorder(KeyringBackend):
    priority = 5
    def set_password(self, service, username, password):
        WRITES.append(service)
    def get_password(self, service, username):
        WRITES.append(service)
    def delete_password(self, service, username):
        WRITES.append(service)

class PlaintextKeyring(Recorder):
    pass
PlaintextKeyring.__module__ = "keyrings.alt.file"

class LowPriority(Recorder):
    priority = 0.5

class Unknown(Recorder):
    pass

class EmptyChain(chainer.ChainerBackend):
    backends = [fail.Keyring(), LowPriority()]
"""


@pytest.mark.parametrize(
    ("backend", "problem"),
    [
        ("fail.Keyring()", "no_keyring"),
        ("null.Keyring()", "no_keyring"),
        ("PlaintextKeyring()", "insecure_backend"),
        ("LowPriority()", "insecure_backend"),
        ("Unknown()", "insecure_backend"),
        ("EmptyChain()", "no_keyring"),
    ],
)
def test_insecure_backends_set_with_set_keyring_are_refused(
    tmp_path: Path, backend: str, problem: str
) -> None:
    env = _isolated_env(tmp_path, keep_bus=True)  # the Secret Service is there: still never used
    script = (
        INSECURE_BACKENDS
        + f"""
keyring.set_keyring({backend})
result = attempt(KeyringVault())
result["writes"] = WRITES
print(json.dumps(result))
"""
    )
    result, output = _run(script, env)
    _assert_refused(result, output, problem)
    assert result["writes"] == []
    assert _all_files(tmp_path / "home") == []


def test_python_keyring_backend_setting_a_null_backend_is_refused(tmp_path: Path) -> None:
    env = _isolated_env(tmp_path, keep_bus=True)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    result, output = _run("print(json.dumps(attempt(KeyringVault())))", env)
    _assert_refused(result, output, "no_keyring")
    assert _all_files(tmp_path / "home") == []


def test_a_chainer_uses_only_its_trusted_backend(tmp_path: Path) -> None:
    """A chain of a plaintext backend and the Secret Service: the vault uses the Secret Service alone."""
    env = _isolated_env(tmp_path, keep_bus=True)
    script = (
        INSECURE_BACKENDS
        + """
from keyring.backends import SecretService

class Mixed(chainer.ChainerBackend):
    backends = [PlaintextKeyring(), SecretService.Keyring()]

keyring.set_keyring(Mixed())
vault = KeyringVault("cryptobots-desktop-test-chainer")
status = vault.status_sync()
vault.store_sync("binance-1", CREDS)
loaded = vault.load_sync("binance-1") == CREDS
vault.delete_sync("binance-1")
print(json.dumps({"available": status.available, "backend": status.backend, "loaded": loaded,
                  "writes": WRITES}))
"""
    )
    proc = subprocess.run(
        [sys.executable, "-"], input=SCRIPT_HEAD + script, capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"available": True, "backend": "SecretService Keyring", "loaded": True, "writes": []}
