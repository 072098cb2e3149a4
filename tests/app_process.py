"""Ending an app started as a separate process, as the desktop does (SIGTERM), and checking it quit well."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator


def _stop(proc: subprocess.Popen[str], timeout: float) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    return err


@contextlib.contextmanager
def quits_cleanly(proc: subprocess.Popen[str], timeout: float = 20) -> Iterator[subprocess.Popen[str]]:
    """Around the checks of a running app: at the end SIGTERM it, and (when the checks passed) assert it
    quit with status 0 and no traceback. A failed check still stops it, and its own error is what shows."""
    try:
        yield proc
    except BaseException:
        _stop(proc, timeout)
        raise
    err = _stop(proc, timeout)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
