"""File logging that never blocks the GUI thread: records go through a queue to a writer thread."""

from __future__ import annotations

import logging
import logging.handlers
import queue
from collections.abc import Callable
from pathlib import Path


def start_file_logging(log_file: Path, level: int = logging.INFO) -> Callable[[], None]:
    """Log to a rotating file from a background thread; returns the function that stops it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    listener = logging.handlers.QueueListener(records, file_handler)
    queue_handler = logging.handlers.QueueHandler(records)
    root = logging.getLogger()
    root.addHandler(queue_handler)
    root.setLevel(level)
    listener.start()

    def stop() -> None:
        root.removeHandler(queue_handler)
        listener.stop()
        file_handler.close()

    return stop
