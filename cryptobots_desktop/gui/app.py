"""Start the app: Qt application, the qasync event loop, logging, settings, the controller."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import qasync
from PySide6.QtWidgets import QApplication

from cryptobots_desktop.logging_setup import start_file_logging
from cryptobots_desktop.paths import app_paths, resources_dir
from cryptobots_desktop.settings import SettingsStore

from .controller import AppController
from .icons import app_icon


def run_app(args: argparse.Namespace) -> int:
    """Run the window until the person quits; returns the process exit status."""
    paths = app_paths(args.data_dir)
    paths.create()
    stop_logging = start_file_logging(paths.log_file)
    store = SettingsStore(paths.settings_file)
    loaded = store.load()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Cryptobots Desktop")
    app.setOrganizationName("Cryptobots")
    app.setDesktopFileName("cryptobots-desktop")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = AppController(
        store, loaded, paths, resources_dir(), quit_after_first_paint=args.quit_after_first_paint
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: loop.call_soon_threadsafe(controller.request_quit))
    try:
        with loop:
            loop.run_until_complete(controller.run())
    finally:
        stop_logging()
    return 0
