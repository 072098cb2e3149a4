"""``--self-check``: quick proofs, from an installed bundle, that its parts load on this system.

``keyring`` stores, reads back and deletes a random throwaway entry through the OS keyring and prints the
backend's name (never the secret); ``ccxt`` imports ``ccxt.async_support`` and builds an exchange object
(no network); ``window`` opens the real window in paper mode on a throwaway data folder and prints what its
dashboard shows; ``live`` connects a live account the way the Accounts dialog does (the key and the
secret read from standard input, never from the command line; the exchange at ``--exchange-url``),
through the OS keyring and ccxt, reads its balance, then removes it. Each prints one line and returns 0
when it passed.
"""

from __future__ import annotations

import secrets
import sys

SERVICE = "cryptobots-desktop-self-check"
# backends that are not an OS keyring: the null/fail backends, and plaintext files (keyrings.alt)
NOT_AN_OS_KEYRING = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def check_keyring() -> int:
    import keyring  # noqa: PLC0415 - only this check needs it
    from keyring.errors import KeyringError  # noqa: PLC0415

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if name.startswith(NOT_AN_OS_KEYRING):
        print(f"self-check keyring: FAILED: no OS keyring found (backend {name})", file=sys.stderr)
        return 1
    user = f"self-check-{secrets.token_hex(4)}"
    token = secrets.token_hex(16)
    try:
        keyring.set_password(SERVICE, user, token)
        read_back = keyring.get_password(SERVICE, user) == token
        keyring.delete_password(SERVICE, user)
        gone = keyring.get_password(SERVICE, user) is None
    except KeyringError as exc:
        print(f"self-check keyring: FAILED with backend {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if not (read_back and gone):
        print(
            f"self-check keyring: FAILED with backend {name}: read back {read_back}, deleted {gone}",
            file=sys.stderr,
        )
        return 1
    print(f"self-check keyring: ok (backend {name}: stored, read back and deleted a test entry)")
    return 0


def check_ccxt() -> int:
    import asyncio  # noqa: PLC0415

    import ccxt.async_support as ccxt_async  # noqa: PLC0415 - ~0.5 s, only this check needs it

    async def build() -> str:
        exchange = ccxt_async.binance({"enableRateLimit": True})
        try:
            return str(exchange.id)
        finally:
            await exchange.close()

    exchange_id = asyncio.run(build())
    count = len(ccxt_async.exchanges)
    print(f"self-check ccxt: ok (ccxt {ccxt_async.__version__}, {count} exchanges, {exchange_id})")
    return 0


def check_window() -> int:
    """The real window on the shipped paper data, in a throwaway data folder: prints what the dashboard
    shows once the paper account has loaded (the portfolio value and the balances rows)."""
    import asyncio  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    import time  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    import qasync  # noqa: PLC0415
    from PySide6.QtCore import Qt  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from cryptobots_desktop.gui.controller import AppController  # noqa: PLC0415
    from cryptobots_desktop.paths import app_paths, resources_dir  # noqa: PLC0415
    from cryptobots_desktop.settings import SettingsStore  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="cryptobots-self-check-") as tmp:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        paths = app_paths(Path(tmp))
        paths.create()
        store = SettingsStore(paths.settings_file)
        controller = AppController(store, store.load(), paths, resources_dir(), tray_available=False)
        dashboard = controller.window.dashboard

        async def look() -> tuple[str, list[str]]:
            await controller.start()
            deadline = time.monotonic() + 30
            model = dashboard.balances_model
            while model.rowCount() == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            rows = [
                " ".join(
                    str(model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole))
                    for c in range(model.columnCount())
                )
                for r in range(model.rowCount())
            ]
            value = str(dashboard.value_label.text())
            await controller.shutdown()
            return value, rows

        with loop:
            value, rows = loop.run_until_complete(look())
    if not rows:
        print("self-check window: FAILED: no balances within 30 s", file=sys.stderr)
        return 1
    print(f"self-check window: ok (Portfolio value {value}; balances: {' | '.join(rows)})")
    print(f"self-check window: {qt_plugins()}")
    return 0


def qt_plugins() -> str:
    """What the Qt plugins the app needs make possible here: the platform, a system tray, the image
    formats (the icons are SVG, screenshots PNG)."""
    from PySide6.QtGui import QGuiApplication, QImageReader  # noqa: PLC0415
    from PySide6.QtWidgets import QSystemTrayIcon  # noqa: PLC0415

    formats = sorted(bytes(f.data()).decode() for f in QImageReader.supportedImageFormats())
    tray = "available" if QSystemTrayIcon.isSystemTrayAvailable() else "not available"
    return f"platform {QGuiApplication.platformName()}; tray {tray}; image formats {' '.join(formats)}"


def check_live(api_urls: dict[str, str]) -> int:
    """Add a Binance account from standard input's two lines (key, secret) at ``api_urls['binance']``,
    as the add-account dialog does: tested, kept in the OS keyring, connected; then removed."""
    import asyncio  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from cryptobots_desktop.core.errors import CryptobotsError  # noqa: PLC0415
    from cryptobots_desktop.engine.accounts import AccountDraft  # noqa: PLC0415
    from cryptobots_desktop.engine.event_bus import EventBus  # noqa: PLC0415
    from cryptobots_desktop.paths import app_paths, resources_dir  # noqa: PLC0415
    from cryptobots_desktop.settings import AppSettings  # noqa: PLC0415
    from cryptobots_desktop.wiring import open_paper_runtime  # noqa: PLC0415

    if "binance" not in api_urls:
        print("self-check live: FAILED: give --exchange-url binance=URL", file=sys.stderr)
        return 2
    key, secret = (sys.stdin.readline().strip(), sys.stdin.readline().strip())

    async def connect(data: Path) -> str:
        paths = app_paths(data)
        paths.create()
        runtime = await open_paper_runtime(
            EventBus(), AppSettings(), paths, resources_dir(), api_urls=api_urls
        )
        try:
            service = runtime.accounts
            draft = AccountDraft("binance", "Self-check", {"api_key": key, "secret": secret})
            state = await service.save(draft)
            account_id = state.account.account_id
            free = await runtime.live.free_balances(account_id)
            markets = len(runtime.live.markets_of(account_id))
            backend = service.vault_status.backend
            await service.remove(account_id)
            return f"backend {backend}; connected, {markets} markets, free USDT {free.get('USDT')}; removed"
        finally:
            await runtime.stop()

    with tempfile.TemporaryDirectory(prefix="cryptobots-self-check-") as tmp:
        try:
            summary = asyncio.run(connect(Path(tmp)))
        except CryptobotsError as exc:
            print(f"self-check live: FAILED: {exc}", file=sys.stderr)
            return 1
    print(f"self-check live: ok ({summary})")
    return 0


CHECKS = {"keyring": check_keyring, "ccxt": check_ccxt, "window": check_window}


def run(names: list[str], api_urls: dict[str, str] | None = None) -> int:
    status = 0
    for name in names:
        status = max(status, check_live(api_urls or {}) if name == "live" else CHECKS[name]())
    return status
