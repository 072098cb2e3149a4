"""Cryptobots Desktop: automated crypto trading on the desktop, paper trading by default."""

from functools import cache


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - ~20 ms, only when asked

    try:
        return version("cryptobots-desktop")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+source"


def __getattr__(name: str) -> str:
    """``__version__`` comes from the package metadata (pyproject.toml), the one place it is set."""
    if name == "__version__":
        return _version()
    raise AttributeError(name)
