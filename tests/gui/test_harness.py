"""The GUI tests' event loop behaves as the app's: asyncio callbacks run only inside the running loop."""

from __future__ import annotations

import asyncio
import time


def test_a_callback_due_while_the_loop_is_stopped_waits_for_it(driver, qapp) -> None:
    ran: list[asyncio.AbstractEventLoop] = []
    driver.loop.call_later(0.02, lambda: ran.append(asyncio.get_running_loop()))
    cancelled = driver.loop.call_later(0.02, lambda: ran.append(None))
    cancelled.cancel()
    time.sleep(0.1)
    qapp.processEvents()  # what pytest-qt does between a test's phases, with the loop stopped
    assert ran == []  # (run here it would have raised "no running event loop")
    driver.pump(0.05)
    assert ran == [driver.loop]  # the next run ran it, inside the loop; the cancelled one never runs
