"""Decode SASL credentials seen in logs, leniently, and describe passwords without showing them.

Postfix logs at most the first 40 characters of each TLS read (``smtpd_tls_loglevel =
4``), so a base64 blob is often cut: the decoder keeps the longest valid prefix, marks it
truncated, and works out what the cut bits still say (the candidate values of the next
byte) and, from the logged read length, how long the whole value was.

Passwords never leave this module in clear unless asked: :func:`password_facts` gives the
length, a character class and a keyed hash (HMAC-SHA256 with a per-dataset key), enough
to see "the same password against 40 accounts" without the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..events.store import KEY_FILE, read_manifest

__all__ = [
    "DecodedBlob",
    "SaslCredentials",
    "decode_b64",
    "decode_response",
    "load_or_create_key",
    "password_facts",
]

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}
_B64_PREFIX = re.compile(r"[A-Za-z0-9+/]*={0,2}")


@dataclass(frozen=True)
class DecodedBlob:
    """What a (possibly cut) base64 text decodes to."""

    data: bytes  # the bytes fully determined by the text
    complete: bool  # the text was a whole, well-formed base64 value
    next_byte: tuple[int, int] | None  # inclusive range the next (cut) byte lies in, if the cut says so

    @property
    def truncated(self) -> bool:
        """Whether the value goes on beyond what was logged."""
        return not self.complete


def decode_b64(text: str, *, cut: bool = False) -> DecodedBlob:
    """Decode base64 leniently: log artefacts stripped, the longest valid prefix kept.

    Parameters
    ----------
    text
        The logged text. ``??`` / ``?`` (CR LF printed by Postfix) and whitespace at the
        end are ignored; decoding stops at the first character outside the alphabet.
    cut
        The log cut the text (a 40-character TLS read): even a length that is a multiple
        of four may be incomplete.

    Examples
    --------
    >>> b = decode_b64("AGFkbWluQGZpcGljay5jb20Ad2lsb")
    >>> b.data, b.complete, [chr(c) for c in range(b.next_byte[0], b.next_byte[1] + 1)]
    (b'\\x00admin@fipick.com\\x00wil', False, ['l', 'm', 'n', 'o'])
    >>> decode_b64("cGFzc3dvcmQxMjM=??").data
    b'password123'
    """
    text = text.rstrip("?\r\n \t")
    m = _B64_PREFIX.match(text)
    body = m.group(0) if m else ""
    stopped_early = len(body) < len(text)
    padded = body.endswith("=")
    core = body.rstrip("=")
    full = len(core) // 4 * 4
    data = base64.b64decode(core[:full]) if full else b""
    rest = core[full:]
    next_byte: tuple[int, int] | None = None
    if rest:
        bits = 0
        for c in rest:
            bits = (bits << 6) | _B64_VALUE[c]
        nbits = 6 * len(rest)
        whole = nbits // 8  # bytes the leftover characters fully determine
        for i in range(whole):
            data += bytes([(bits >> (nbits - 8 * (i + 1))) & 0xFF])
        known = nbits - 8 * whole  # high bits of the next byte
        if known and not padded:
            prefix = bits & ((1 << known) - 1)
            low = prefix << (8 - known)
            next_byte = (low, low | ((1 << (8 - known)) - 1))
    complete = padded or (len(rest) == 0 and not cut)
    if stopped_early:
        complete = complete and padded
    return DecodedBlob(data, complete, next_byte)


@dataclass(frozen=True)
class SaslCredentials:
    """Credentials recovered from one SASL client response."""

    mechanism: str
    username: str | None
    username_complete: bool
    password: str | None  # clear text: never store or print without an explicit request
    password_complete: bool
    password_length: tuple[int, int] | None  # (min, max) characters
    next_char: tuple[int, int] | None  # inclusive code range of the first unseen password character


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def decode_response(
    mechanism: str,
    blob: str,
    *,
    step: str = "initial",
    logged_length: int | None = None,
    cut: bool = False,
) -> SaslCredentials:
    """Decode a SASL response (AUTH PLAIN / LOGIN / CRAM-MD5 / XOAUTH2).

    Parameters
    ----------
    mechanism
        As the client sent it (any case).
    blob
        The base64 text as logged.
    step
        For LOGIN: ``"username"`` or ``"password"`` (from the server's 334 challenge);
        PLAIN/CRAM-MD5/XOAUTH2 carry everything in one response.
    logged_length
        The full length of the base64 text when the log says it (``Read N chars:``):
        bounds the length of a cut password.
    cut
        The log cut the text (TLS reads are cut at 40 characters).

    Examples
    --------
    >>> c = decode_response("PLAIN", "AGFkbWluQGZpcGljay5jb20Ad2lsb", logged_length=32, cut=True)
    >>> c.username, c.username_complete, c.password_length, c.password_complete
    ('admin@fipick.com', True, (4, 6), False)
    """
    mech = mechanism.upper()
    dec = decode_b64(blob, cut=cut)
    total = _decoded_length_range(logged_length) if logged_length is not None else None
    if mech == "PLAIN":
        parts = dec.data.split(b"\x00")
        if len(parts) >= 3:
            user, pw = parts[1], b"\x00".join(parts[2:])
            prefix = len(parts[0]) + len(user) + 2
            length = None
            if dec.complete:
                length = (len(_text(pw)), len(_text(pw)))
            elif total is not None:
                length = (max(len(pw), total[0] - prefix), max(len(pw), total[1] - prefix))
            return SaslCredentials(
                mech,
                _text(user),
                True,
                _text(pw),
                dec.complete,
                length,
                None if dec.complete else dec.next_byte,
            )
        if len(parts) == 2:  # cut inside the user name
            return SaslCredentials(mech, _text(parts[1]), False, None, False, None, None)
        return SaslCredentials(mech, None, False, None, False, None, None)
    if mech == "LOGIN":
        value = _text(dec.data)
        if step == "password":
            length = (
                (len(value), len(value))
                if dec.complete
                else ((max(len(value), total[0]), max(len(value), total[1])) if total else None)
            )
            return SaslCredentials(
                mech, None, False, value, dec.complete, length, None if dec.complete else dec.next_byte
            )
        return SaslCredentials(mech, value, dec.complete, None, False, None, None)
    if mech == "CRAM-MD5":
        cram_user = _text(dec.data).rsplit(" ", 1)[0] if b" " in dec.data else _text(dec.data)
        return SaslCredentials(mech, cram_user, b" " in dec.data, None, False, None, None)
    if mech in ("XOAUTH2", "OAUTHBEARER"):
        m = re.search(rb"user=([^\x01,]*)", dec.data)
        return SaslCredentials(mech, _text(m.group(1)) if m else None, bool(m), None, False, None, None)
    return SaslCredentials(mech, None, False, None, False, None, None)


def _decoded_length_range(b64_length: int) -> tuple[int, int]:
    """Bytes a base64 text of this many characters decodes to (padding unknown)."""
    groups = b64_length // 4
    if groups == 0:
        return (0, 0)
    return (groups * 3 - 2, groups * 3)


def password_class(password: str) -> str:
    """``digits``, ``lower``, ``upper``, ``letters``, ``alnum``, ``printable`` or ``other``."""
    if not password:
        return "empty"
    if password.isdigit():
        return "digits"
    if password.isalpha():
        if password.islower():
            return "lower"
        return "upper" if password.isupper() else "letters"
    if password.isalnum():
        return "alnum"
    return "printable" if password.isprintable() else "other"


def password_facts(password: str, key: bytes) -> dict[str, object]:
    """Length, class and keyed hash of a password: what reports may show by default."""
    return {
        "password_length": len(password),
        "password_class": password_class(password),
        "password_hmac": hmac.new(key, password.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[
            :16
        ],
    }


def load_or_create_key(dataset: str | os.PathLike[str]) -> bytes:
    """The HMAC key of a dataset's password fingerprints; nothing is written into it.

    Ingest gives every dataset its key (``secrets/hmac.key``, mode 0600). A dataset written
    before it did has none: its key is then kept in this user's private cache folder
    (``$XDG_CACHE_HOME/maillog-forensics/keys``, mode 0700), named after the dataset's
    path and first run, so read commands work on read-only media and never change them.

    Parameters
    ----------
    dataset
        The dataset folder.

    Returns
    -------
    bytes
        32 bytes.
    """
    path = Path(dataset) / KEY_FILE
    if path.exists():
        return binascii.unhexlify(path.read_text().strip())
    runs = read_manifest(dataset).get("runs", [])
    first = runs[0].get("run_id", "") if runs else ""
    name = hashlib.sha256(f"{Path(dataset).resolve()}\0{first}".encode()).hexdigest()[:32]
    return _private_key(_cache_home() / "maillog-forensics" / "keys" / f"{name}.key")


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _private_key(path: Path) -> bytes:
    """The key in ``path``, created (0600, in a 0700 folder) if missing."""
    if path.exists():
        return binascii.unhexlify(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    key = os.urandom(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return binascii.unhexlify(path.read_text().strip())
    with os.fdopen(fd, "w") as fh:
        fh.write(binascii.hexlify(key).decode())
    return key
