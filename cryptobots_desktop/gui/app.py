"""Start the app: Qt application, the qasync event loop, logging, settings, the controller."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

import qasync
from PySide6.QtCore import QLockFile
from PySide6.QtWidgets import QApplication, QMessageBox

from cryptobots_desktop.logging_setup import start_file_logging
from cryptobots_desktop.paths import app_paths, resources_dir
from cryptobots_desktop.settings import SettingsStore

from .controller import AppController
from .icons import app_icon


def configure_application(app: QApplication) -> None:
    """Name, icon, and no quit when the last window closes (the app lives on in the tray, and a quit
    posted by Qt would stop the asyncio loop under a running coroutine)."""
    app.setApplicationName("Cryptobots Desktop")
    app.setOrganizationName("Cryptobots")
    app.setDesktopFileName("cryptobots-desktop")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)


def _shut_down_after_qt_stopped(
    loop: qasync.QEventLoop, run: asyncio.Task[None], controller: AppController
) -> int:
    """Qt ended its event loop under the app: the desktop session ended (shut down as Quit does, so the
    engine stops and the paper account and settings are saved) or the display went away (Qt cannot run
    again: stop as after a crash, which the journal is made for). Returns the exit status."""
    log = logging.getLogger(__name__)
    log.warning("Qt's event loop ended under the app: shutting down")
    controller.request_quit()
    try:
        loop.run_until_complete(run)
    except RuntimeError:
        message = (
            "the display went away (the X server or the desktop session ended); stopped without a clean "
            "shutdown. Every order and fill is in the journal and is reconciled at the next start."
        )
        log.error(message)
    except Exception:
        log.exception("shutting down after Qt's event loop ended failed")
        message = (
            "shutting down after the desktop session ended failed (the log says why). Every order and fill "
            "is in the journal and is reconciled at the next start."
        )
    else:
        return 0
    print(f"cryptobots-desktop: {message}", file=sys.stderr, flush=True)
    return 1


def run_app(args: argparse.Namespace) -> int:
    """Run the window until the person quits; returns the process exit status."""
    paths = app_paths(args.data_dir)
    paths.create()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # One app per data folder: two would both send the same bots' orders.
    lock = QLockFile(str(paths.data_dir / "cryptobots.lock"))
    lock.setStaleLockTime(0)  # a lock left by a crashed app is detected by its dead process id
    if not lock.tryLock(100):
        message = (
            "Cryptobots Desktop is already running with this data folder "
            f"({paths.data_dir}). Use its window or its tray icon."
        )
        print(f"cryptobots-desktop: {message}", file=sys.stderr, flush=True)
        QMessageBox.critical(None, "Cryptobots Desktop is already running", message)
        return 3
    stop_logging = start_file_logging(paths.log_file)
    store = SettingsStore(paths.settings_file)
    loaded = store.load()
    configure_application(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = AppController(
        store,
        loaded,
        paths,
        resources_dir(),
        quit_after_first_paint=args.quit_after_first_paint,
        start_minimized=args.minimized,
        api_urls=dict(getattr(args, "exchange_url", None) or []),
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: loop.call_soon_threadsafe(controller.request_quit))
    try:
        with loop:
            run = loop.create_task(controller.run(), name="app")
            try:
                loop.run_until_complete(run)
            except RuntimeError:
                if run.done():
                    raise
                return _shut_down_after_qt_stopped(loop, run, controller)
    finally:
        stop_logging()
        lock.unlock()
    return 0
