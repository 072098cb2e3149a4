"""Recognising a wallet recovery phrase (BIP-39) pasted where an API key belongs, so it can be refused.

People confuse an exchange's API secret with their wallet's secrets. A recovery phrase is 12, 15, 18, 21
or 24 words of the BIP-39 English list; whoever has it owns the wallet. The check runs on every
credential field before the value goes anywhere (not to the exchange, not to the keyring, not to a log).

Core does no I/O: the word list (``resources/bip39-english.txt``) is read by the caller
(``adapters.bip39_wordlist``) and passed in as a ``Bip39Wordlist``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptobots_desktop.core.errors import SeedPhraseRefused

PHRASE_LENGTHS = frozenset({12, 15, 18, 21, 24})
"""The word counts BIP-39 defines for a recovery phrase."""

SEED_PHRASE_MESSAGE = (
    "This looks like a wallet recovery phrase (seed phrase), not an API key. It was not saved or sent "
    "anywhere."
)
SEED_PHRASE_HINT = (
    "An exchange API key and secret are made on the exchange's website, under API management. They are "
    "not a wallet's private key or recovery phrase. Whoever has a recovery phrase or private key owns the "
    "wallet's funds: never give them to any app or website, this one included. If you typed it into "
    "something you don't trust, move the funds to a new wallet."
)

_SEPARATORS = re.compile(r"[\s,;]+")
_NUMBERING = re.compile(r"^\(?\d{1,2}[.):]?$")  # "1." "2)" "(3)" "12" from a wallet's numbered list
_NUMBERED_WORD = re.compile(r"^\(?\d{1,2}[.):]([a-z]+)$")  # "1.abandon"


@dataclass(frozen=True, slots=True)
class Bip39Wordlist:
    """The 2048 words of the BIP-39 English list."""

    words: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Bip39Wordlist:
        """Read the list's text (one word a line); refuses anything that is not 2048 distinct words."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        words = frozenset(lines)
        if len(lines) != 2048 or len(words) != 2048 or not all(w.isascii() and w.isalpha() for w in words):
            raise ValueError(
                f"not the BIP-39 English word list: {len(lines)} lines, {len(words)} distinct words"
            )
        return cls(words)

    def __repr__(self) -> str:
        return f"Bip39Wordlist({len(self.words)} words)"


def _words(text: str) -> list[str]:
    tokens: list[str] = []
    for raw in _SEPARATORS.split(text.strip().lower()):
        if not raw or _NUMBERING.match(raw):
            continue
        numbered = _NUMBERED_WORD.match(raw)
        tokens.append(numbered.group(1) if numbered else raw)
    return tokens


def looks_like_seed_phrase(text: str, wordlist: Bip39Wordlist) -> bool:
    """True when ``text`` reads as a recovery phrase.

    That is 12, 15, 18, 21 or 24 words all from the list; or any 12 to 24 words with at most one not on it
    (a phrase with a typo is still a phrase). Numbering copied from a wallet ("1. abandon 2. ability")
    and commas are ignored. No API key, secret or passphrase is a run of a dozen English words.
    """
    words = _words(text)
    if not 12 <= len(words) <= 24:
        return False
    return sum(1 for w in words if w not in wordlist.words) <= 1


def refuse_seed_phrase(field: str, text: str, wordlist: Bip39Wordlist) -> None:
    """Raise ``SeedPhraseRefused`` (naming the field, never the text) when ``text`` is a recovery phrase."""
    if looks_like_seed_phrase(text, wordlist):
        raise SeedPhraseRefused(SEED_PHRASE_MESSAGE, SEED_PHRASE_HINT, field=field)
