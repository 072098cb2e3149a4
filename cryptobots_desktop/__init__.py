"""Cryptobots Desktop: automated crypto trading on the desktop, paper trading by default."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cryptobots-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
