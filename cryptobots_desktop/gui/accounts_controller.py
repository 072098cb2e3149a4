"""The accounts' side of the window: the Accounts page, the add/edit and accept-risk dialogs, the warnings
banner, the tray's warning state and notifications, and the bots' account column.

It talks to the engine's ``AccountService`` only; every call to it runs as a task on the event loop, so
the window never waits for the keyring or an exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from cryptobots_desktop.core.errors import CryptobotsError
from cryptobots_desktop.core.permissions import Severity
from cryptobots_desktop.engine.events import AccountsChanged, KeyWarningsRaised, Level

from .bots_model import account_tag
from .main_window import ACCOUNTS, MainWindow
from .tray import AppTray
from .warnings_banner import VAULT_LINE_ID

if TYPE_CHECKING:
    from cryptobots_desktop.engine.accounts import AccountDraft, AccountService
    from cryptobots_desktop.engine.event_bus import EventBus

    from .account_dialog import AccountDialog
    from .event_bridge import QtEventBridge
    from .risk_dialog import RiskDialog

log = logging.getLogger(__name__)
NOT_READY = CryptobotsError("The app is still starting.", "Try again in a moment.")


class AccountsController(QObject):
    """Wires the Accounts page, dialogs, banner and tray to the ``AccountService`` once it is open."""

    def __init__(
        self,
        window: MainWindow,
        tray: AppTray | None,
        bridge: QtEventBridge,
        bus: EventBus,
        spawn: Callable[[Coroutine[Any, Any, None], str], None],
        on_summary: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_summary = on_summary  # the tray's tooltip is rebuilt when the warnings change
        self._window = window
        self._tray = tray
        self._bus = bus
        self._spawn = spawn
        self.service: AccountService | None = None
        self.dialog: AccountDialog | None = None  # the open add/edit dialog
        self.risk_dialog: RiskDialog | None = None
        self._save_task: asyncio.Task[None] | None = None
        self._names: dict[str, str] = {}
        self._last: AccountsChanged | None = None
        page = window.accounts
        page.addRequested.connect(self.open_add_dialog)
        page.editRequested.connect(self.open_edit_dialog)
        page.removeRequested.connect(self.confirm_remove)
        page.recheckRequested.connect(self.recheck)
        page.acceptRiskRequested.connect(self.open_risk_dialog)
        page.acknowledgeRequested.connect(self.acknowledge_widening)
        window.banner.openAccountRequested.connect(self.open_account)
        bridge.accountsChanged.connect(self.on_accounts)
        bridge.keyWarningsRaised.connect(self.on_new_warnings)
        if tray is not None:
            tray.accountRequested.connect(self.open_account)

    def attach(self, service: AccountService) -> None:
        """The engine's accounts are open: the page can act, and the exchange names load (with ccxt)."""
        self.service = service
        self._spawn(self._load_names(service), "Listing the exchanges")

    async def _load_names(self, service: AccountService) -> None:
        if not service.accounts:
            return  # nothing to name: ccxt loads when the person first adds an account
        listing = await service.inspector.exchanges()
        self._names = {e.exchange_id: e.name for e in listing}
        self._window.accounts.model.exchange_names = self._names
        self._window.accounts.model.refresh_all()

    # -- from the engine -------------------------------------------------------------------------------
    def on_accounts(self, event: AccountsChanged) -> None:
        self._last = event
        self._window.accounts.on_accounts(event)
        banner = self._window.banner
        banner.on_accounts(event)
        bots = self._window.bots.model
        bots.accounts = {s.account.account_id: account_tag(s) for s in event.accounts}
        bots.refresh_columns(1, 1)
        self._window.status.set_live_accounts([s.account.label for s in event.accounts if s.connected])
        if self._tray is not None:
            lines = [(line.account_id, line.text) for line in banner.lines[:5]]
            self._tray.set_warnings(banner.worst, lines)
        self._on_summary()

    def on_new_warnings(self, event: KeyWarningsRaised) -> None:
        if self._tray is None:
            return
        worst = event.warnings[0]
        critical = worst.severity >= Severity.CRITICAL
        title = f"{'Critical' if critical else 'Warning'}: {event.account.label}"
        rest = f" (+{len(event.warnings) - 1} more)" if len(event.warnings) > 1 else ""
        self._tray.notify(title, f"{worst.title}{rest}. {worst.action}", warning=True)

    def worst_text(self) -> str:
        """The tray tooltip's line about key warnings ("" when there are none)."""
        lines = self._window.banner.lines
        return f"Warning: {lines[0].text}" if lines else ""

    # -- commands --------------------------------------------------------------------------------------
    def open_account(self, account_id: str) -> None:
        self._window.show_page(ACCOUNTS)
        if account_id != VAULT_LINE_ID:
            self._window.accounts.select_account(account_id)
        if not self._window.isVisible():
            self._window.show()
        self._window.raise_()

    def open_add_dialog(self) -> None:
        from .account_dialog import AccountDialog  # noqa: PLC0415 - built when asked, not at start-up

        self._open_dialog(AccountDialog(self._window))

    def open_edit_dialog(self, account_id: str) -> None:
        service = self.service
        account = service.account(account_id) if service is not None else None
        if account is None:
            return
        from .account_dialog import AccountDialog  # noqa: PLC0415

        dialog = AccountDialog(
            self._window,
            account_id=account_id,
            exchange_id=account.exchange_id,
            label=account.label,
            key_hint=account.key_hint,
        )
        self._open_dialog(dialog)

    def _open_dialog(self, dialog: AccountDialog) -> None:
        dialog.submitted.connect(lambda draft: self._submit(dialog, draft))
        dialog.exchangeChosen.connect(lambda exchange_id: self._load_fields(dialog, exchange_id))
        dialog.cancelRequested.connect(self._cancel_save)
        dialog.finished.connect(lambda _r: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()
        if self.service is None:
            dialog.show_error(NOT_READY)
            return
        self._spawn(self._fill_exchanges(dialog, self.service), "Listing the exchanges")

    async def _fill_exchanges(self, dialog: AccountDialog, service: AccountService) -> None:
        status = await service.check_vault()
        if not status.available and self.dialog is dialog:  # stays shown: Test and save would fail too
            dialog.set_notice(
                f"{status.message} {status.hint} Until then no key can be kept, so none is saved.".strip()
            )
        listing = await service.inspector.exchanges()
        self._names = {e.exchange_id: e.name for e in listing}
        self._window.accounts.model.exchange_names = self._names
        if self.dialog is dialog:
            dialog.set_exchanges(listing)

    def _load_fields(self, dialog: AccountDialog, exchange_id: str) -> None:
        service = self.service
        if service is None:
            return

        async def load() -> None:
            try:
                required = await service.inspector.required_fields(exchange_id)
            except CryptobotsError as exc:
                dialog.show_error(exc)
                return
            dialog.set_required(exchange_id, required)

        self._spawn(load(), "Reading what the exchange's keys need")

    def _submit(self, dialog: AccountDialog, draft: AccountDraft) -> None:
        service = self.service
        if service is None:
            dialog.show_error(NOT_READY)
            return
        name = self._names.get(draft.exchange_id, draft.exchange_id) or "the exchange"
        checking = draft.replaces_key or draft.account_id is None
        dialog.set_busy(
            True,
            f"Signing a request to {name} with the key and reading what it may do…"
            if checking
            else "Saving…",
        )
        self._save_task = asyncio.get_event_loop().create_task(self._save(dialog, service, draft))

    async def _save(self, dialog: AccountDialog, service: AccountService, draft: AccountDraft) -> None:
        try:
            state = await service.save(draft)
        except asyncio.CancelledError:
            return
        except CryptobotsError as exc:
            dialog.show_error(exc)
            return
        except Exception as exc:  # a bug: said plainly, with the details in the log (no secret is in them)
            log.exception("saving the account failed")
            dialog.show_error(
                CryptobotsError(
                    f"Something unexpected went wrong ({type(exc).__name__}).", "Nothing was saved."
                )
            )
            return
        finally:
            self._save_task = None
        dialog.set_busy(False)
        dialog.accept()
        self.open_account(state.account.account_id)

    def _cancel_save(self) -> None:
        if self._save_task is not None:
            self._save_task.cancel()
            # not "nothing was saved": once the exchange has accepted the key, keeping it runs to its end
            # (the engine then says "Account connected"); before that, nothing is kept
            self._bus.activity(
                Level.INFO,
                "accounts",
                "Key check cancelled. Unless the exchange had already accepted the key (then the account "
                "is connected and listed), nothing was kept.",
            )

    def _dialog_closed(self, dialog: AccountDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
            self._cancel_save()
        dialog.deleteLater()

    def confirm_remove(self, account_id: str) -> None:
        service = self.service
        account = service.account(account_id) if service is not None else None
        if service is None or account is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Remove the account?",
            f"{account.label}: its API key is deleted from this computer's keyring and its bots stop "
            "trading here. Nothing changes on the exchange: open orders stay there, and the key itself "
            "stays valid until you delete it on the exchange's website.",
            QMessageBox.StandardButton.Cancel,
            self._window,
        )
        box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: (
                self._spawn(service.remove(account_id), "Removing the account")
                if box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
                else None
            )
        )
        self.remove_box = box
        box.open()

    def recheck(self, account_id: str) -> None:
        service = self.service
        if service is None:
            return

        async def recheck() -> None:
            with contextlib.suppress(CryptobotsError):  # shown on the account and in Activity
                await service.recheck(account_id)

        self._spawn(recheck(), "Checking the key")

    def acknowledge_widening(self, account_id: str) -> None:
        """The person changed the key that gained rights themselves: clear its flag (asynchronously)."""
        service = self.service
        if service is None:
            return

        async def acknowledge() -> None:
            try:
                await service.acknowledge_widening(account_id)
            except CryptobotsError as exc:
                self._bus.activity(Level.ERROR, "accounts", str(exc))

        self._spawn(acknowledge(), "Clearing the key's gained-permissions flag")

    def open_risk_dialog(self, account_id: str) -> None:
        service = self.service
        account = service.account(account_id) if service is not None else None
        if service is None or account is None:
            return
        from .risk_dialog import RiskDialog  # noqa: PLC0415

        parent: QWidget = self._window
        dialog = RiskDialog(account.label, self._names.get(account.exchange_id, account.exchange_id), parent)

        async def accept(typed: str) -> None:
            try:
                await service.accept_risk(account_id, typed)
            except CryptobotsError as exc:
                self._bus.activity(Level.ERROR, account.label, str(exc))

        dialog.confirmed.connect(lambda typed: self._spawn(accept(typed), "Accepting the risk"))
        dialog.finished.connect(lambda _r: setattr(self, "risk_dialog", None))
        self.risk_dialog = dialog
        dialog.open()
