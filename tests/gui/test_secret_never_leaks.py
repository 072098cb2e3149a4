"""A live account whose API key and secret are unique sentinel strings goes through everything: added in
the dialog (after a refused attempt whose wrong secret contains the sentinel), a live bot trading on the
local exchange (a deal opened, then closed at market), every error path the gateway and the key check
know, a re-check, a CSV export, a clean quit. Afterwards no file the app wrote (data folder, settings,
accounts, journal, paper state, log at DEBUG, export) and nothing it printed holds the key or the secret.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from cryptobots_desktop.adapters.keyring_vault import KeyringVault
from cryptobots_desktop.core.replay import ReplaySpeed
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.logging_setup import start_file_logging
from tests.exchange_server.fixture import ThreadedExchange, start_in_thread
from tests.exchange_server.server import ServerConfig

PARAMS = DcaParams(
    base_order_size=D(20),
    safety_order_size=D(20),
    max_safety_orders=1,
    price_deviation_pct=D(1),
    take_profit_pct=D(5),
)
KEY = f"KEYSENTINEL{secrets.token_hex(12)}"
SECRET = f"SECRETSENTINEL{secrets.token_hex(16)}"
ORDER_PATH = "/api/v3/order"
CHECK_PATH = "/sapi/v1/account/apiRestrictions"
TICKER_PATH = "/api/v3/ticker/24hr"


@pytest.fixture
def sentinel_exchange() -> Iterator[ThreadedExchange]:
    exchange = start_in_thread(ServerConfig(key=KEY, secret=SECRET, speed=ReplaySpeed.MAX))
    try:
        yield exchange
    finally:
        exchange.stop()


def leaks(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in (KEY, SECRET):
                if needle.encode() in data:
                    found.append(f"{path}: {needle[:14]}…")
    return found


def test_the_key_and_secret_appear_in_no_file_and_no_output(
    driver, make_controller, tmp_path: Path, sentinel_exchange: ThreadedExchange, capfd
) -> None:
    driver.until(QSystemTrayIcon.isSystemTrayAvailable, what="a system tray host")
    data = tmp_path / "data"
    stop_logging = start_file_logging(data / "logs" / "cryptobots.log", level=logging.DEBUG)
    try:
        c = make_controller(data, api_urls={"binance": sentinel_exchange.base_url})
        driver.run(c.start())
        c.runtime.live._poll_interval = 0.2  # the live feed's prices every 0.2 s instead of 5 s
        account_id = driver.run(scenario(driver, c, sentinel_exchange, tmp_path), timeout=150)
        driver.run(c.shutdown())
    finally:
        stop_logging()
    log_text = (data / "logs" / "cryptobots.log").read_text()
    assert "Account connected" in log_text and "Bot created" in log_text  # the log did record the story
    out, err = capfd.readouterr()
    assert KEY not in out + err and SECRET not in out + err
    assert leaks(tmp_path) == []
    # the keyring has them (the one place), and removing the account would delete them
    stored = driver.run(KeyringVault().load(account_id))
    assert stored is not None and stored.secret == SECRET
    driver.run(KeyringVault().delete(account_id))


async def scenario(driver, c, ex: ThreadedExchange, tmp_path: Path) -> str:
    w = c.window
    c.accounts.open_add_dialog()
    dialog = c.accounts.dialog
    await driver.wait(lambda: dialog.exchange_combo.count() > 10, what="the exchanges listed")
    dialog.exchange_combo.setCurrentIndex(dialog.exchange_combo.findData("binance"))
    await driver.wait(lambda: "binance" in dialog._required, what="Binance's fields")
    dialog.label_edit.setText("Sentinel")
    dialog.edits["api_key"].setText(KEY)
    dialog.edits["secret"].setText(SECRET + "x")  # wrong, and it contains the real secret
    dialog.save_button.click()
    await driver.wait(lambda: not dialog._busy, what="the refusal")
    assert dialog.error_text and SECRET not in dialog.error_text and KEY not in dialog.error_text
    dialog.edits["secret"].setText(SECRET)
    dialog.save_button.click()
    await driver.wait(lambda: c.accounts.dialog is None, timeout=30, what="the account saved")
    service = c.accounts.service
    [state] = service.states()
    account_id = state.account.account_id
    await driver.wait(lambda: service.state(account_id).connected, what="connected")

    # a live bot: a deal opens with a market buy and a resting take-profit
    supervisor = c.runtime.supervisor
    bot = await supervisor.create_dca_bot("Sentinel bot", account_id, "BTC/USDT", PARAMS)
    runner = supervisor.runner(bot.bot_id)
    await driver.wait(lambda: runner.active_deals, timeout=30, what="a live deal")
    await driver.wait(lambda: w.deals.open_model.rowCount() == 1, what="the deal shown")

    # every error path: the check and the trading path, each a clear message without a secret
    for fault in (
        {"kind": "status", "status": 503, "path": CHECK_PATH, "count": 1},
        {"kind": "rate_limit", "path": CHECK_PATH, "retry_after_s": 1, "count": 1},
        {"kind": "malformed", "path": CHECK_PATH, "count": 1},
        {"kind": "drop_before", "path": CHECK_PATH, "count": 1},
    ):
        ex.add_fault(**fault)
        with pytest.raises(Exception) as caught:
            await service.recheck(account_id)
        assert KEY not in str(caught.value) and SECRET not in str(caught.value)
        assert service.state(account_id).last_error
    ex.clear_faults()
    ex.set_skew(120_000)  # the clock two minutes off: resynchronised, then the check succeeds
    await service.recheck(account_id)
    ex.set_skew(0)
    for fault in (
        {"kind": "status", "status": 503, "path": TICKER_PATH, "count": 3},
        {"kind": "malformed", "path": TICKER_PATH, "count": 3},
        {"kind": "rate_limit", "path": TICKER_PATH, "retry_after_s": 1, "count": 1},
    ):
        ex.add_fault(**fault)
        await driver.wait(
            lambda: not ex.state()["faults"], timeout=20, what=f"the feed to meet {fault['kind']}"
        )
    ex.clear_faults()

    # close the deal at market with the reply dropped after the exchange took the order: adopted, not resent
    ex.add_fault("drop_after", method="POST", path=ORDER_PATH, count=1)
    deal_no = runner.active_deals[0].deal_no
    await supervisor.close_deal(bot.bot_id, deal_no, None)
    await driver.wait(lambda: w.deals.closed_model.rowCount() >= 1, timeout=40, what="the deal closed")
    ex.clear_faults()
    await supervisor.set_status(bot.bot_id, type(bot.status).STOPPED)
    await c.export_closed_deals(tmp_path / "closed-deals.csv")
    assert "Sentinel bot" in (tmp_path / "closed-deals.csv").read_text()
    return account_id
