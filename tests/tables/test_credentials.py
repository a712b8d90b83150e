"""Credential decoding: lenient base64, SASL mechanisms, password facts."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from maillog_forensics.tables.credentials import (
    decode_b64,
    decode_response,
    load_or_create_key,
    password_class,
    password_facts,
)


def b64(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def test_seed_blob_worked_through() -> None:
    # "Read 45 chars: AUTH PLAIN AGFk...": 11 + 32 base64 + CRLF, only 40 logged
    c = decode_response("plain", "AGFkbWluQGZpcGljay5jb20Ad2lsb", logged_length=45 - 13, cut=True)
    assert (c.username, c.username_complete) == ("admin@fipick.com", True)
    assert (c.password, c.password_complete, c.password_length) == ("wil", False, (4, 6))
    assert c.next_char is not None and [chr(x) for x in range(c.next_char[0], c.next_char[1] + 1)] == list(
        "lmno"
    )


def test_plain_complete_with_authzid_and_log_artefacts() -> None:
    c = decode_response("PLAIN", b64("admin\x00admin@example.com\x00s3cret!") + "??")
    assert (c.username, c.password, c.password_complete, c.password_length) == (
        "admin@example.com",
        "s3cret!",
        True,
        (7, 7),
    )


def test_login_steps_and_other_mechanisms() -> None:
    assert (
        decode_response("LOGIN", b64("alice@example.com") + "??", step="username").username
        == "alice@example.com"
    )
    pw = decode_response("login", b64("hunter2"), step="password")
    assert (pw.password, pw.password_complete, pw.username) == ("hunter2", True, None)
    assert decode_response("CRAM-MD5", b64("bob 0123456789abcdef0123456789abcdef")).username == "bob"
    assert decode_response("XOAUTH2", b64("user=carol@example.com\x01auth=Bearer x\x01\x01")).username == (
        "carol@example.com"
    )


def test_garbage_never_raises() -> None:
    for text in ["", "*", "!!!!", "====", "A", "AB=CD", "QUIT??", "\x00\xff"]:
        decode_b64(text)
        decode_response("PLAIN", text)


@given(st.binary(max_size=60), st.data())
def test_any_cut_decodes_to_a_prefix(raw: bytes, data: st.DataObject) -> None:
    full = b64(raw)
    cut = data.draw(st.integers(0, len(full)))
    dec = decode_b64(full[:cut], cut=cut < len(full))
    assert raw.startswith(dec.data)
    if cut == len(full):
        assert dec.data == raw and dec.complete
    elif dec.complete:  # only when the cut kept the padding: then nothing is missing
        assert dec.data == raw and "=" in full[:cut]
    if dec.next_byte is not None and len(dec.data) < len(raw):
        assert dec.next_byte[0] <= raw[len(dec.data)] <= dec.next_byte[1]


def test_password_facts_hide_the_secret(tmp_path: Path) -> None:
    from maillog_forensics.events.store import create_key

    (tmp_path / "ds").mkdir()
    assert create_key(tmp_path / "ds") and not create_key(tmp_path / "ds")  # made by writers, once
    key = load_or_create_key(tmp_path / "ds")
    assert load_or_create_key(tmp_path / "ds") == key and len(key) == 32
    assert stat.S_IMODE((tmp_path / "ds" / "secrets" / "hmac.key").stat().st_mode) == 0o600
    f1, f2 = password_facts("Winter2026!", key), password_facts("Winter2026!", key)
    assert f1 == f2 and f1["password_length"] == 11 and f1["password_class"] == "printable"
    assert "Winter2026!" not in str(f1)
    assert password_facts("Winter2026!", b"other key")["password_hmac"] != f1["password_hmac"]
    assert [password_class(p) for p in ("123", "abc", "ABC", "aB", "a1")] == [
        "digits",
        "lower",
        "upper",
        "letters",
        "alnum",
    ]
