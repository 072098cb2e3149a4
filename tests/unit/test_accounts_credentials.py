"""core.accounts and core.seed_phrase: credential input checked before it goes anywhere; accounts hold no
secret; a wallet recovery phrase is refused in every field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptobots_desktop.adapters.bip39_wordlist import load_bip39_english
from cryptobots_desktop.core.accounts import (
    Account,
    RequiredFields,
    check_account_id,
    check_label,
    validate_credentials,
)
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import (
    InvalidAccount,
    InvalidCredentials,
    RiskNotAccepted,
    SeedPhraseRefused,
)
from cryptobots_desktop.core.key_permissions import KeyPermissions
from cryptobots_desktop.core.seed_phrase import SEED_PHRASE_HINT, Bip39Wordlist, looks_like_seed_phrase

WORDS = load_bip39_english()
LIST = sorted(WORDS.words)
BINANCE = RequiredFields.from_ccxt({"apiKey": True, "secret": True, "uid": False, "password": False})
OKX = RequiredFields.from_ccxt({"apiKey": True, "secret": True, "password": True})
KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
PHRASE_12 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
PEM = (
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oKiHcnb3Ex2JoAoGCCqGSM49\n"
    "AwEHoUQDQgAEGYpEUtNoJcA3GNkDZM1QdF8tBlWSlqIGnYz6AwM2qHRCSB2Ujdbh\n-----END EC PRIVATE KEY-----\n"
)


def test_the_word_list_is_the_official_one(resources: Path, tmp_path: Path) -> None:
    assert len(WORDS.words) == 2048 and LIST[0] == "abandon" and LIST[-1] == "zoo"
    assert (resources / "bip39-english.PROVENANCE.md").read_text().count("MIT") >= 1
    with pytest.raises(ValueError, match="not the BIP-39"):
        Bip39Wordlist.parse("abandon\nability\n")
    bad = tmp_path / "not-bip39.txt"
    bad.write_text("\n".join([*LIST[:-1], "zzz"]) + "\n")
    with pytest.raises(ValueError, match="not the official"):
        load_bip39_english(bad)


@pytest.mark.parametrize("count", [12, 15, 18, 21, 24])
def test_a_recovery_phrase_of_each_length_is_recognised(count: int) -> None:
    phrase = " ".join(LIST[i * 37 % 2048] for i in range(count))
    assert looks_like_seed_phrase(phrase, WORDS)
    assert looks_like_seed_phrase(phrase.upper().replace(" ", "\n"), WORDS)
    numbered = " ".join(f"{i + 1}. {w}" for i, w in enumerate(phrase.split()))
    assert looks_like_seed_phrase(numbered, WORDS)
    assert looks_like_seed_phrase(",".join(phrase.split()), WORDS)
    assert looks_like_seed_phrase(" ".join(f"{i + 1}.{w}" for i, w in enumerate(phrase.split())), WORDS)


@pytest.mark.parametrize(
    "text",
    [
        KEY,
        SECRET,
        PEM,
        "correct horse battery staple",  # a passphrase of English words, too short to be a phrase
        " ".join(LIST[:11]),  # 11 words
        " ".join(LIST[:25]),  # 25 words
        " ".join(["bitcoin"] * 6 + ["notaword"] * 6),
        "",
    ],
)
def test_what_is_not_a_recovery_phrase(text: str) -> None:
    assert not looks_like_seed_phrase(text, WORDS)


def test_a_phrase_with_one_typo_is_still_refused() -> None:
    assert looks_like_seed_phrase(PHRASE_12.replace("about", "abuot"), WORDS)
    assert not looks_like_seed_phrase(
        PHRASE_12.replace("about", "abuot").replace("abandon", "abndon", 1), WORDS
    )


@pytest.mark.parametrize("field", ["api_key", "secret", "passphrase", "uid"])
def test_a_recovery_phrase_in_any_field_is_refused_without_echoing_it(field: str) -> None:
    values = {"api_key": KEY, "secret": SECRET, "passphrase": "pass", field: f"  {PHRASE_12}\n"}
    with pytest.raises(SeedPhraseRefused) as caught:
        validate_credentials(values, OKX, WORDS)
    assert caught.value.field == field
    assert "abandon" not in str(caught.value) and "about" not in repr(caught.value.args)
    assert "not a wallet's private key or recovery phrase" in caught.value.hint
    assert "never give them to any app" in SEED_PHRASE_HINT


@given(st.lists(st.sampled_from(LIST), min_size=12, max_size=24))
def test_any_run_of_list_words_is_refused(words: list[str]) -> None:
    with pytest.raises(SeedPhraseRefused):
        validate_credentials({"api_key": KEY, "secret": " ".join(words)}, BINANCE, WORDS)


def test_fields_are_trimmed_and_unneeded_ones_dropped() -> None:
    creds = validate_credentials(
        {"api_key": f" \t{KEY}\n", "secret": f"{SECRET}  ", "passphrase": "ignored", "uid": ""},
        BINANCE,
        WORDS,
    )
    assert creds == ApiCredentials(KEY, SECRET)
    okx = validate_credentials(
        {"api_key": KEY, "secret": SECRET, "passphrase": "  my pass phrase "}, OKX, WORDS
    )
    assert okx.passphrase == "my pass phrase"


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"secret": SECRET, "passphrase": "p"}, "api_key", "Enter the API key"),
        ({"api_key": KEY, "secret": "  ", "passphrase": "p"}, "secret", "Enter the API secret"),
        ({"api_key": KEY, "secret": SECRET}, "passphrase", "not your login or trading password"),
        ({"api_key": KEY[:20] + " " + KEY[20:], "secret": SECRET, "passphrase": "p"}, "api_key", "space"),
        (
            {"api_key": KEY, "secret": SECRET[:9] + "\n" + SECRET[9:], "passphrase": "p"},
            "secret",
            "line break",
        ),
    ],
)
def test_missing_or_broken_fields_are_named(values: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(InvalidCredentials) as caught:
        validate_credentials(values, OKX, WORDS)
    assert caught.value.field == field and words in str(caught.value)
    assert KEY not in str(caught.value) and SECRET not in str(caught.value)


def test_coinbase_pem_secret_is_accepted_even_with_escaped_line_breaks() -> None:
    coinbase = RequiredFields.from_ccxt({"apiKey": True, "secret": True})
    name = "organizations/0b1c2d3e-aaaa/apiKeys/9f8e7d6c-bbbb"
    for pasted in (PEM, PEM.replace("\n", "\\n"), "  " + PEM.replace("\n", "\r\n") + "\n\n"):
        creds = validate_credentials({"api_key": name, "secret": pasted}, coinbase, WORDS)
        assert creds.secret == PEM and creds.api_key == name


def test_required_fields_from_ccxt() -> None:
    assert BINANCE.fields == ("api_key", "secret") and BINANCE.supported
    assert OKX.fields == ("api_key", "secret", "passphrase")
    htx_uid = RequiredFields.from_ccxt({"apiKey": True, "secret": True, "uid": True})
    assert htx_uid.fields == ("api_key", "secret", "uid")
    dex = RequiredFields.from_ccxt(
        {"apiKey": False, "secret": False, "walletAddress": True, "privateKey": True}
    )
    assert not dex.supported and dex.unsupported == ("privateKey", "walletAddress")
    with pytest.raises(InvalidCredentials, match="wallet's private key"):
        validate_credentials({"api_key": KEY, "secret": SECRET}, dex, WORDS)


def test_an_account_keeps_only_the_masked_key() -> None:
    acct = Account.create("binance-1", "binance", "  Binance   main ", ApiCredentials(KEY, SECRET), 7)
    assert acct.label == "Binance main" and acct.key_hint == f"{KEY[:4]}…{KEY[-4:]}"
    assert KEY not in repr(acct) and SECRET not in repr(acct)
    assert acct.created_ms == 7 and acct.permissions is None and acct.last_checked_ms is None


def test_labels_and_ids_are_checked() -> None:
    with pytest.raises(InvalidAccount, match="already called"):
        check_label("binance MAIN", ["Binance main"])
    with pytest.raises(InvalidAccount, match="name"):
        check_label("  \n ")
    with pytest.raises(InvalidAccount, match="too long"):
        check_label("x" * 61)
    for bad in ("", "Binance-1", "../etc", "a" * 65, "-x"):
        with pytest.raises(InvalidAccount):
            check_account_id(bad)
    assert check_account_id("okx-3f9a0c1d2b4e") == "okx-3f9a0c1d2b4e"


def test_editing_the_key_forgets_checks_and_acceptance_renaming_keeps_them() -> None:
    checked = Account.create("okx-1", "okx", "OKX", ApiCredentials(KEY, SECRET), 1).with_check(
        KeyPermissions("okx", withdraw=True), 2
    )
    accepted = checked.accept_risk("OKX", 3)
    renamed = accepted.with_label("OKX spot", ["Binance"])
    assert renamed.risk_acceptance == accepted.risk_acceptance and renamed.label == "OKX spot"
    new_key = "AAAA" + KEY[4:-4] + "ZZZZ"
    replaced = accepted.with_credentials(ApiCredentials(new_key, SECRET))
    assert replaced.key_hint == "AAAA…ZZZZ"
    assert (
        replaced.permissions is None and replaced.risk_acceptance is None and replaced.last_checked_ms is None
    )


def test_accepting_needs_the_exact_label_and_a_checked_key() -> None:
    acct = Account.create("okx-1", "okx", "OKX main", ApiCredentials(KEY, SECRET), 1)
    with pytest.raises(RiskNotAccepted, match="not been checked"):
        acct.accept_risk("OKX main", 2)
    checked = acct.with_check(KeyPermissions("okx", withdraw=True), 2)
    for typed in ("okx main", "OKX", "OKX  main", ""):
        with pytest.raises(RiskNotAccepted, match="not the account's name"):
            checked.accept_risk(typed, 3)


def test_the_vaults_status_probe_name_can_never_be_an_account_id() -> None:
    from cryptobots_desktop.adapters.keyring_vault import _STATUS_PROBE_USER

    with pytest.raises(InvalidAccount):
        check_account_id(_STATUS_PROBE_USER)
