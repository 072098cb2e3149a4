"""Screenshot of the new-bot dialog with Grid chosen, in the real app on the paper exchange.

Starts the app's controller as ``python -m cryptobots_desktop`` does (a fresh ``--data-dir``), opens the
new-bot dialog as Ctrl+N does, chooses Grid, waits for the pair's price to fill in the defaults and the
levels preview, and saves ``QWidget.grab()`` of the dialog. Run it under a display, e.g. Xvfb:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_new_bot_grid.py OUT.png
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from cryptobots_desktop.gui.controller import AppController
from cryptobots_desktop.paths import app_paths, resources_dir
from cryptobots_desktop.settings import SettingsStore


async def shoot(controller: AppController, out: Path) -> None:
    start = asyncio.create_task(controller.start())
    deadline = time.monotonic() + 30
    while controller.runtime is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    controller.open_new_bot_dialog()
    dialog = controller.new_bot_dialog
    assert dialog is not None, "the new-bot dialog did not open"
    dialog.strategy_combo.setCurrentIndex(dialog.strategy_combo.findData("grid"))
    while not dialog.ok_button.isEnabled() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # let the layout settle
    out.parent.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(out)), f"could not save {out}"
    print(f"saved {out} ({dialog.width()}x{dialog.height()}): {dialog.summary_label.text()}")
    await start
    await controller.shutdown()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/screenshots/new-bot-grid.png").resolve()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Cryptobots Desktop")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="cryptobots-shot-") as tmp:
        paths = app_paths(Path(tmp))
        paths.create()
        store = SettingsStore(paths.settings_file)
        controller = AppController(store, store.load(), paths, resources_dir(), tray_available=False)
        with loop:
            loop.run_until_complete(shoot(controller, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
