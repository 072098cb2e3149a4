"""GUI test harness: the real Qt widgets on a qasync event loop, driven to a condition with a deadline.

Coroutines run through ``loop.run_until_complete`` (which also runs Qt's event loop), never inside
``qtbot.waitUntil``; every wait has a deadline so a broken test fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QEvent

from cryptobots_desktop.gui.controller import AppController
from cryptobots_desktop.paths import app_paths
from cryptobots_desktop.settings import SettingsStore
from tests.exchange_server.fixture import exchange_server, local_exchange

__all__ = ["exchange_server", "local_exchange"]  # the local exchange's fixtures, for the live-account tests

T = TypeVar("T")


class Driver:
    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def run(self, aw: Awaitable[T], timeout: float = 20.0) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(aw, timeout))  # type: ignore[arg-type]

    def until(self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> None:
        async def poll() -> None:
            deadline = time.monotonic() + timeout
            while not predicate():
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                await asyncio.sleep(0.02)

        self.loop.run_until_complete(poll())

    @staticmethod
    async def wait(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> None:
        """Inside a scenario coroutine: wait (letting the app run) until ``predicate`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.02)

    def pump(self, seconds: float) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))


class _AppLikeLoop(qasync.QEventLoop):
    """qasync's loop, running asyncio's callbacks only while it runs, as in the app (whose loop runs from
    start to quit).

    A test stops and restarts the loop between its steps, and Qt events are processed in those gaps
    (pytest-qt processes events around each test phase; qasync itself once after each run). qasync's
    callbacks are Qt timers, so a timer due then (a task's sleep ending, a socket becoming readable)
    would step a task with no running event loop, which fails it with "no running event loop" - a
    failure of the harness that never happens in the app. Here such a callback waits for the next run.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._held: list[asyncio.Handle] = []

    def _add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
        def run_or_hold() -> None:
            if handle.cancelled():
                return
            if self.is_running():
                handle._run()
            else:
                self._held.append(handle)

        super()._add_callback(asyncio.Handle(run_or_hold, (), self), delay)
        return handle  # what the caller may cancel

    def run_forever(self) -> Any:
        held, self._held = self._held, []
        for handle in held:
            self._add_callback(handle)
        return super().run_forever()


@pytest.fixture(scope="session")
def _session_loop(qapp: Any) -> Iterator[qasync.QEventLoop]:
    """One qasync loop for the whole session, as the app has one for its whole life."""
    loop = _AppLikeLoop(qapp, already_running=False)
    yield loop
    loop.close()


@pytest.fixture
def driver(_session_loop: qasync.QEventLoop) -> Iterator[Driver]:
    loop = _session_loop
    asyncio.set_event_loop(loop)
    yield Driver(loop)
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    asyncio.set_event_loop(None)


@pytest.fixture
def make_controller(resources: Path, driver: Driver) -> Iterator[Callable[..., AppController]]:
    made: list[AppController] = []

    def make(data_dir: Path, **kw: Any) -> AppController:
        paths = app_paths(data_dir)
        paths.create()
        store = SettingsStore(paths.settings_file)
        controller = AppController(store, store.load(), paths, resources, **kw)
        made.append(controller)
        return controller

    yield make
    # Tear down deterministically: Qt objects deleted now, and Python's cycle collector run here, not
    # later in the middle of another test's event dispatch (which crashes PySide).
    for c in made:
        if c.runtime is not None or c.window.isVisible():
            driver.run(c.shutdown())
        c.window.deleteLater()
        c.deleteLater()
    made.clear()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
