"""The Accounts page, the add-account dialog, the accept-risk dialog, the banner and the tray, in the real
window: real ccxt signing real requests to the local exchange, keys in the real Secret Service.

The secret is a sentinel string: after each flow, no file the app wrote holds it, nor the key.
"""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMessageBox, QSystemTrayIcon

from cryptobots_desktop.adapters.bip39_wordlist import load_bip39_english
from cryptobots_desktop.adapters.keyring_vault import KeyringVault
from cryptobots_desktop.core.accounts import validate_credentials
from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.permissions import Severity
from cryptobots_desktop.core.strategies.dca import DcaParams
from cryptobots_desktop.gui.accounts_model import SEVERITY_COLOURS
from cryptobots_desktop.gui.main_window import ACCOUNTS, BOTS
from tests.exchange_server.fixture import ThreadedExchange

SEED = (
    "abandon ability able about above absent absorb abstract absurd abuse access accident"  # 12 BIP-39 words
)
PARAMS = DcaParams(
    base_order_size=D(20),
    safety_order_size=D(20),
    max_safety_orders=1,
    price_deviation_pct=D(1),
    take_profit_pct=D(1),
)


def files_holding(root: Path, *needles: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain one of ``needles``."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(n.encode() in data for n in needles):
                found.append(path)
    return found


def screenshot(widget, artifacts_dir: Path, name: str) -> None:
    """Save what ``widget`` shows, laid out as a person sees it: the layouts an update has asked for are
    done first (a grab right after the banner or status bar changed showed them squashed)."""
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    target = artifacts_dir / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(target / name))


async def open_dialog(driver, c, exchange_id: str):
    c.accounts.open_add_dialog()
    dialog = c.accounts.dialog
    await driver.wait(lambda: dialog.exchange_combo.count() > 10, what="the exchanges listed")
    index = dialog.exchange_combo.findData(exchange_id)
    assert index > 0
    dialog.exchange_combo.setCurrentIndex(index)
    await driver.wait(lambda: exchange_id in dialog._required, what="the key's fields for the exchange")
    return dialog


async def submit(driver, c, dialog) -> str:
    """Test and save; the error the dialog shows ("" when it closed on success)."""
    dialog.save_button.click()
    await driver.wait(
        lambda: c.accounts.dialog is not dialog or not dialog._busy, timeout=30, what="the check"
    )
    return "" if c.accounts.dialog is not dialog else dialog.error_text


def bot_account_cell(w) -> tuple[str, str, object]:
    """The first bot's Account cell as the table shows it: its text, its tooltip, its colour."""
    index = w.bots.view.model().index(0, 1)
    return (
        index.data(),
        index.data(Qt.ItemDataRole.ToolTipRole),
        index.data(Qt.ItemDataRole.ForegroundRole),
    )


def paste(edit: QLineEdit, text: str) -> None:
    QApplication.clipboard().setText(text)
    edit.selectAll()
    edit.paste()


@pytest.fixture
def started(driver, make_controller, tmp_path: Path, local_exchange: ThreadedExchange):
    driver.until(QSystemTrayIcon.isSystemTrayAvailable, what="a system tray host")
    c = make_controller(
        tmp_path / "data", api_urls={"binance": local_exchange.base_url, "okx": local_exchange.base_url}
    )
    driver.run(c.start())
    return c


def test_adding_a_binance_key_every_failure_keeps_what_was_typed_then_it_saves(
    driver, started, local_exchange: ThreadedExchange, tmp_path: Path, artifacts_dir: Path
) -> None:
    driver.run(scenario_binance(driver, started, local_exchange, tmp_path, artifacts_dir), timeout=120)


async def scenario_binance(driver, c, ex: ThreadedExchange, tmp_path: Path, artifacts_dir: Path) -> None:
    w = c.window
    w.show_page(ACCOUNTS)
    assert w.accounts.empty_label.isVisible() and not w.banner.isVisible()
    dialog = await open_dialog(driver, c, "binance")
    edits = dialog.edits
    # Binance asks for a key and a secret only; the secret is masked until Show is ticked
    assert edits["api_key"].isVisible() and edits["secret"].isVisible()
    assert not edits["passphrase"].isVisible() and not edits["uid"].isVisible()
    assert edits["secret"].echoMode() is QLineEdit.EchoMode.Password
    dialog.show_toggles["secret"].setChecked(True)
    assert edits["secret"].echoMode() is QLineEdit.EchoMode.Normal
    dialog.show_toggles["secret"].setChecked(False)
    assert "How to make a safe key on Binance" in dialog.guide.toPlainText()
    assert "Enable Withdrawals" in dialog.guide.toPlainText()
    screenshot(dialog, artifacts_dir, "add-account-dialog.png")

    dialog.label_edit.setText("Binance main")
    paste(edits["api_key"], f"  {ex.key}\n")  # pasted with spaces and a line break: trimmed
    assert edits["api_key"].text() == ex.key

    # a missing secret: named, nothing sent
    assert "Enter the API secret" in await submit(driver, c, dialog)
    # a wallet recovery phrase pasted as the secret: refused before it goes anywhere
    requests_before = len(ex.requests())
    edits["secret"].setText(SEED)
    error = await submit(driver, c, dialog)
    assert "recovery phrase" in error and "never give them to any app" in error
    assert len(ex.requests()) == requests_before
    # a wrong secret: the exchange refuses the signature; the fields keep what was typed
    edits["secret"].setText("wrong-" + ex.secret)
    error = await submit(driver, c, dialog)
    assert "secret" in error.lower(), error
    assert edits["secret"].text() == "wrong-" + ex.secret and edits["api_key"].text() == ex.key
    # a wrong key; then the right key from an IP address the key does not allow; then a key that may not
    # read (Binance answers the last two with one code: the message names each possibility)
    edits["secret"].setText(ex.secret)
    edits["api_key"].setText("Z" + ex.key[1:])
    error = await submit(driver, c, dialog)
    assert "key" in error.lower() and "wrong" in error.lower(), error
    edits["api_key"].setText(ex.key)
    ex.set_restrictions(ipRestrict=True, ipWhitelist=["203.0.113.7"])
    error = await submit(driver, c, dialog)
    assert "IP address" in error and "whitelist" in error, error
    ex.set_restrictions(reset=True, enableReading=False)
    error = await submit(driver, c, dialog)
    assert "permission" in error or "may not read" in error, error
    ex.set_restrictions(reset=True)
    # the exchange down, then rate limiting: said so, nothing saved
    ex.add_fault("status", status=503, path="/sapi/v1/account/apiRestrictions", count=1)
    error = await submit(driver, c, dialog)
    assert (
        "unavailable" in error.lower() or "could not be reached" in error.lower() or "down" in error.lower()
    ), error
    ex.add_fault("rate_limit", path="/sapi/v1/account/apiRestrictions", retry_after_s=1, count=1)
    error = await submit(driver, c, dialog)
    assert "slow" in error.lower() or "too many" in error.lower() or "rate" in error.lower(), error
    ex.clear_faults()
    assert not (tmp_path / "data" / "accounts.json").exists()
    assert c.accounts.service.accounts == ()

    # the right key: saved, the dialog closes, the account shows with its warnings
    assert await submit(driver, c, dialog) == ""
    assert c.accounts.dialog is None
    await driver.wait(lambda: w.accounts.model.rowCount() == 1, what="the account listed")
    state = w.accounts.model.row_at(0)
    account = state.account
    assert account.label == "Binance main" and account.exchange_id == "binance"
    assert account.key_hint == f"{ex.key[:4]}…{ex.key[-4:]}"
    codes = {warning.code.value for warning in state.warnings if warning.severity >= Severity.WARNING}
    assert codes == {"no_ip_restriction"}, codes  # read + spot trade, but from any IP address
    assert w.banner.isVisible() and w.banner.worst is Severity.WARNING
    assert "works from any IP address" in w.banner.lines[0].text
    assert c.tray.colour_name == "amber"
    assert any("Binance main" in a.text() for a in c.tray.warning_actions)
    assert "Warning: Binance main" in c.tray.icon.toolTip()
    await driver.wait(lambda: c.accounts.service.state(account.account_id).connected, what="connected")
    assert "may run" in w.accounts.view.model().index(0, 4).data()
    assert w.status.live_label.isVisible() and w.status.live_label.text() == "Live: Binance main"
    await driver.wait(lambda: "binance: connected" in w.status.connection_label.text(), what="live state")
    assert "Paper exchange: connected" in w.status.connection_label.text()
    screenshot(w, artifacts_dir, "accounts-page.png")

    # the key is in the keyring, and nowhere else
    stored = await KeyringVault().load(account.account_id)
    assert stored is not None and stored.secret == ex.secret and stored.api_key == ex.key
    assert files_holding(tmp_path, ex.secret, ex.key) == []

    # edit: a new name only keeps the key; a new key is tested, then replaces the old one in the keyring
    w.accounts.select_account(account.account_id)
    w.accounts.edit_button.click()
    edit = c.accounts.dialog
    await driver.wait(lambda: edit.exchange_combo.currentData() == "binance", what="the edit dialog")
    assert not edit.exchange_combo.isEnabled() and edit.keep_key_note.isVisible()
    edit.label_edit.setText("Binance spot")
    assert await submit(driver, c, edit) == ""
    assert c.accounts.service.account(account.account_id).label == "Binance spot"
    assert (await KeyringVault().load(account.account_id)).secret == ex.secret
    w.accounts.edit_button.click()
    edit = c.accounts.dialog
    await driver.wait(lambda: "binance" in edit._required or edit.exchange_combo.count() == 1, what="fields")
    edit.edits["api_key"].setText(ex.key)
    edit.edits["secret"].setText("wrong-" + ex.secret)
    assert "secret" in (await submit(driver, c, edit)).lower()  # refused: the old key stays
    assert (await KeyringVault().load(account.account_id)).secret == ex.secret
    edit.reject()
    await driver.wait(lambda: c.accounts.dialog is None, what="the dialog closed")

    # snoozed until the next check; the next check brings it back
    w.banner.snooze(w.banner.lines[0])
    assert not w.banner.isVisible()
    ex.set_restrictions(ipRestrict=True, ipWhitelist=["127.0.0.1"])
    w.accounts.select_account(account.account_id)
    w.accounts.recheck_button.click()
    await driver.wait(
        lambda: c.accounts.service.account(account.account_id).permissions.ip_restricted is True,
        what="the re-check",
    )
    await driver.wait(
        lambda: all(x.severity < Severity.WARNING for x in w.accounts.model.row_at(0).warnings),
        what="no warning left",
    )
    assert not w.banner.isVisible() and c.tray.colour_name in ("green", "grey")

    # remove: the keyring entry goes, the file forgets it
    w.accounts.remove_button.click()
    box = c.accounts.remove_box
    assert "deleted from this computer's keyring" in box.text()
    [remove] = [b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole]
    remove.click()
    await driver.wait(lambda: w.accounts.model.rowCount() == 0, what="the account removed")
    assert await KeyringVault().load(account.account_id) is None
    assert files_holding(tmp_path, ex.secret, ex.key) == []


def test_a_key_that_may_withdraw_runs_no_bot_until_the_risk_is_accepted(
    driver, started, local_exchange: ThreadedExchange, artifacts_dir: Path
) -> None:
    driver.run(scenario_withdraw(driver, started, local_exchange, artifacts_dir), timeout=120)


async def scenario_withdraw(driver, c, ex: ThreadedExchange, artifacts_dir: Path) -> None:
    w = c.window
    ex.set_restrictions(enableWithdrawals=True, ipRestrict=True, ipWhitelist=["127.0.0.1"])
    dialog = await open_dialog(driver, c, "binance")
    dialog.label_edit.setText("Risky")
    dialog.edits["api_key"].setText(ex.key)
    dialog.edits["secret"].setText(ex.secret)
    assert await submit(driver, c, dialog) == ""
    await driver.wait(lambda: w.accounts.model.rowCount() == 1, what="the account listed")
    account_id = w.accounts.model.row_at(0).account.account_id
    service = c.accounts.service
    await driver.wait(lambda: service.state(account_id).connected, what="connected")

    # critical: red banner that cannot be hidden, red tray, a notification; bots refused
    assert w.banner.worst is Severity.CRITICAL and "may withdraw" in w.banner.lines[0].text
    assert w.banner.findChildren(type(w.accounts.add_button), "bannerSnooze") == []
    assert c.tray.colour_name == "red"
    allowed, why = service.can_start(account_id)
    assert not allowed and "withdraw" in why
    with pytest.raises(CryptobotsError, match="withdraw"):
        await c.runtime.supervisor.create_dca_bot("Risky bot", account_id, "BTC/USDT", PARAMS)
    # the new-bot dialog offers the account, and says why no bot may start on it
    c.open_new_bot_dialog()
    bot_dialog = c.new_bot_dialog
    assert bot_dialog.account_combo.accessibleName() == "Account"
    bot_dialog.account_combo.setCurrentIndex(bot_dialog.account_combo.findData(account_id))
    assert "withdraw" in bot_dialog.error_labels["account"].text()
    assert not bot_dialog._ready
    bot_dialog.reject()
    w.show_page(ACCOUNTS)
    w.accounts.select_account(account_id)
    assert w.accounts.accept_button.isVisible()
    assert "Bots will not start on this account" in w.accounts.details.toPlainText()
    screenshot(w, artifacts_dir, "accounts-withdraw-critical.png")

    # the accept-risk dialog says what it means; only the exact name accepts
    w.accounts.accept_button.click()
    risk = c.accounts.risk_dialog
    assert (
        risk is not None
        and "can send everything in the account"
        in risk.findChild(type(w.accounts.vault_label), "riskText").text()
    )
    risk.typed.setText("risky")
    assert not risk.accept_button.isEnabled()
    risk.typed.setText(" Risky ")
    assert risk.accept_button.isEnabled()
    screenshot(risk, artifacts_dir, "accept-risk-dialog.png")
    risk.accept_button.click()
    await driver.wait(lambda: service.can_start(account_id)[0], what="the acceptance")
    assert not w.accounts.accept_button.isVisible()
    # now the dialog starts a bot on it, previewed at the live account's own price and balance
    c.open_new_bot_dialog()
    bot_dialog = c.new_bot_dialog
    bot_dialog.account_combo.setCurrentIndex(bot_dialog.account_combo.findData(account_id))
    bot_dialog.pair_combo.setCurrentText("BTC/USDT")
    await driver.wait(lambda: bot_dialog._ready, what="the live price and balance in the preview")
    assert bot_dialog.error_labels["account"].text() == ""
    screenshot(bot_dialog, artifacts_dir, "new-bot-live-account.png")
    bot_dialog.ok_button.click()
    await driver.wait(lambda: w.bots.model.rowCount() == 1, what="the bot listed")
    bot = w.bots.model.row_at(0).bot
    assert bot.account_id == account_id and bot.symbols == ("BTC/USDT",)
    # beside the bot: the account's worst warning in words, all of them in the tooltip, red (accepted, so
    # bots may run: no "may not run")
    text, tip, colour = bot_account_cell(w)
    assert text.startswith("Risky — critical: may withdraw") and "may not run" not in text, text
    assert "Critical: The key may withdraw funds (risk accepted)." in tip, tip
    assert colour == SEVERITY_COLOURS[Severity.CRITICAL]

    # the key gains futures: the acceptance no longer covers it; the running bot is paused
    ex.set_restrictions(enableFutures=True)
    await service.recheck(account_id)
    assert not service.can_start(account_id)[0]
    codes = {x.code.value for x in service.state(account_id).warnings}
    assert {"withdraw_enabled", "permissions_widened", "derivatives_enabled"} <= codes
    runner = c.runtime.supervisor.runner(bot.bot_id)
    assert runner.bot.status.value == "paused"
    text, tip, colour = bot_account_cell(w)
    assert text.startswith("Risky — critical: may withdraw") and text.endswith("(may not run)"), text
    assert "Warning: The key gained permissions." in tip and "Bots will not start on Risky" in tip, tip
    assert "Warning: The key may also use futures trading." in tip, tip
    assert colour == SEVERITY_COLOURS[Severity.CRITICAL]

    # "I made this change": the gained-permissions flag goes; the withdrawal acceptance still does not
    # cover futures, so bots still may not run
    w.show_page(ACCOUNTS)
    w.accounts.select_account(account_id)
    assert w.accounts.acknowledge_button.isVisible() and w.accounts.accept_button.isVisible()
    # the banner shows its new line at once, as tall as it needs, and nothing of the lines it replaced
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    shown = [label for label in w.banner.findChildren(QLabel, "bannerLine") if label.isVisible()]
    assert [label.text() for label in shown] == [
        "<b>Critical</b> — Risky: The key may withdraw funds and 2 more. Bots will not run on this account."
    ]
    label = shown[0]
    assert label.height() >= label.heightForWidth(label.width()) > 10  # its text fits
    assert w.banner.height() >= label.height()
    screenshot(w, artifacts_dir, "accounts-key-gained-permissions.png")
    w.accounts.acknowledge_button.click()
    await driver.wait(
        lambda: "permissions_widened" not in {x.code.value for x in service.state(account_id).warnings},
        what="the flag cleared",
    )
    assert service.account(account_id).widened == ()
    assert not w.accounts.acknowledge_button.isVisible()
    assert not service.can_start(account_id)[0]
    assert "Warning: The key gained permissions." not in bot_account_cell(w)[1]
    activity = w.activity.model
    messages = [activity.entry(i).message for i in range(activity.rowCount())]
    assert any("You confirmed you gave the key futures trading yourself" in m for m in messages), messages

    # withdrawals turned off, futures still on: a plain warning beside the bot, amber, bots may run
    ex.set_restrictions(enableWithdrawals=False)
    await service.recheck(account_id)
    assert service.can_start(account_id)[0]
    text, tip, colour = bot_account_cell(w)
    assert text.startswith("Risky — warning: futures/margin enabled") and "may not run" not in text, text
    assert "Warning: The key may also use futures trading." in tip and "withdraw" not in tip, tip
    assert colour == SEVERITY_COLOURS[Severity.WARNING]
    assert not w.accounts.acknowledge_button.isVisible()  # losing a right is no widening
    w.show_page(BOTS)
    screenshot(w, artifacts_dir, "bots-account-warning.png")
    await service.remove(account_id)


def test_okx_asks_for_the_api_passphrase_and_says_which_one(
    driver, started, local_exchange: ThreadedExchange, tmp_path: Path
) -> None:
    driver.run(scenario_okx(driver, started, local_exchange, tmp_path), timeout=120)


async def scenario_okx(driver, c, ex: ThreadedExchange, tmp_path: Path) -> None:
    dialog = await open_dialog(driver, c, "okx")
    edits = dialog.edits
    assert edits["passphrase"].isVisible() and edits["passphrase"].echoMode() is QLineEdit.EchoMode.Password
    assert "API passphrase" in dialog.guide.toPlainText() or "passphrase" in dialog.guide.toPlainText()
    dialog.label_edit.setText("OKX")
    edits["api_key"].setText(ex.key)
    edits["secret"].setText(ex.secret)
    error = await submit(driver, c, dialog)
    assert "Enter the API passphrase" in error and "not your login or trading password" in error
    edits["passphrase"].setText("not-" + ex.passphrase)
    error = await submit(driver, c, dialog)
    assert "passphrase" in error.lower() and "trading password" in error.lower(), error
    assert edits["passphrase"].text() == "not-" + ex.passphrase
    edits["passphrase"].setText(ex.passphrase)
    assert await submit(driver, c, dialog) == ""
    await driver.wait(lambda: c.window.accounts.model.rowCount() == 1, what="the account listed")
    account_id = c.window.accounts.model.row_at(0).account.account_id
    stored = await KeyringVault().load(account_id)
    assert stored is not None and stored.passphrase == ex.passphrase
    assert files_holding(tmp_path, ex.secret, ex.passphrase) == []
    await c.accounts.service.remove(account_id)


def test_a_coinbase_private_key_pasted_as_the_secret_keeps_its_lines(driver, started) -> None:
    driver.run(scenario_coinbase(driver, started), timeout=60)


async def scenario_coinbase(driver, c) -> None:
    dialog = await open_dialog(driver, c, "coinbase")
    pem = (
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBzx8cHn1bzuW5r6zFq3mD0l8cWkq4ZqA1BcDeFgHiJkoAoGCCqGSM49\n"
        "AwEHoUQDQgAEexample\n-----END EC PRIVATE KEY-----\n"
    )
    assert "private key" in dialog.edits["secret"].placeholderText()
    paste(dialog.edits["api_key"], " organizations/org-id/apiKeys/key-id ")
    paste(dialog.edits["secret"], pem)
    assert dialog.edits["api_key"].text() == "organizations/org-id/apiKeys/key-id"
    assert dialog.edits["secret"].text() == pem  # the line breaks kept
    assert dialog.edits["secret"].echoMode() is QLineEdit.EchoMode.Password
    draft = dialog.draft()
    required = dialog._required["coinbase"]
    credentials = validate_credentials(draft.values, required, load_bip39_english())
    assert credentials.secret.startswith("-----BEGIN EC PRIVATE KEY-----\n")
    assert credentials.secret.count("\n") == 4
    dialog.reject()


def test_without_a_usable_keyring_no_key_is_kept_and_the_dialog_says_how_to_fix_it(
    driver, make_controller, tmp_path: Path, local_exchange: ThreadedExchange
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # what keyring picks on a system without one
    try:
        c = make_controller(tmp_path / "data", api_urls={"binance": local_exchange.base_url})
        driver.run(c.start())
        driver.run(scenario_no_keyring(driver, c, local_exchange, tmp_path), timeout=60)
    finally:
        keyring.set_keyring(previous)


async def scenario_no_keyring(driver, c, ex: ThreadedExchange, tmp_path: Path) -> None:
    dialog = await open_dialog(driver, c, "binance")
    await driver.wait(dialog.notice_label.isVisible, what="the keyring notice")
    notice = dialog.notice_label.text()
    assert "keyring" in notice.lower() and "none is saved" in notice
    dialog.label_edit.setText("No keyring")
    dialog.edits["api_key"].setText(ex.key)
    dialog.edits["secret"].setText(ex.secret)
    error = await submit(driver, c, dialog)
    assert "keyring" in error.lower(), error
    assert dialog.notice_label.isVisible()  # typing and choosing never hide it
    assert c.accounts.service.accounts == () and files_holding(tmp_path, ex.secret, ex.key) == []
    assert c.runtime is not None  # paper trading goes on
    dialog.reject()
