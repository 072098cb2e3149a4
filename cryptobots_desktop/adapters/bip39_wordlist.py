"""Reads the shipped BIP-39 English word list for the seed-phrase check (``core.seed_phrase``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptobots_desktop.core.seed_phrase import Bip39Wordlist
from cryptobots_desktop.paths import resources_dir

WORDLIST_FILE = "bip39-english.txt"
WORDLIST_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
"""bitcoin/bips bip-0039/english.txt (see resources/bip39-english.PROVENANCE.md)."""


def load_bip39_english(path: Path | None = None) -> Bip39Wordlist:
    """The list from ``resources/`` (or ``path``); raises ``ValueError`` if it is not the official one."""
    data = (path or resources_dir() / WORDLIST_FILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WORDLIST_SHA256:
        raise ValueError(f"{WORDLIST_FILE} is not the official BIP-39 English list (sha256 {digest})")
    return Bip39Wordlist.parse(data.decode("utf-8"))
