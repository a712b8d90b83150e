"""Opening inputs: files, folders, globs, stdin, compression, journald JSON; line batches.

Input files are only ever opened for reading. Each file is read in fixed-size blocks and
cut into batches of whole lines (a line ends at ``\\n``; a last line without one still
counts), so memory stays bounded whatever the file size. Anomalies never stop a read:
invalid UTF-8 is replaced (and flagged), a CR before the LF is removed (flagged), NUL
bytes are kept (flagged by the parser) but a run of them (the zero-filled blocks a crash
leaves in a log) is read as one NUL, over-long lines are cut at ``max_line_bytes``
(flagged) and the rest of such a line is skipped without holding it in memory.

Whether a file is a text log is decided on samples of its (decompressed) content from
its start, middle and end, with NUL bytes left out (:func:`binary_reason`). In a folder
or a glob a file that is not (binary, unreadable) is skipped with its reason; named
explicitly, it is an error.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl
import pyarrow as pa

from .integrity import find_damage
from .schema import FLAG_BITS

__all__ = [
    "InputError",
    "InputFile",
    "InputSet",
    "LineBatch",
    "SkippedInput",
    "binary_reason",
    "content_prefix_sha256",
    "expand_inputs",
    "file_sha256",
    "gather_inputs",
    "iter_batches",
    "read_line",
]

try:  # zstd is optional at run time: only .zst inputs need it
    from zstandard import ZstdError as _ZstdError
except ImportError:  # pragma: no cover
    _ZstdError = OSError  # type: ignore[misc, assignment]

#: what a damaged or truncated compressed stream raises
DECOMPRESS_ERRORS = (EOFError, OSError, lzma.LZMAError, zlib.error, _ZstdError)

BLOCK_BYTES = 8 << 20
READ_STEP = 64 << 10
MAX_LINE_BYTES = 64 << 10
SAMPLE_BYTES = 64 << 10
#: lines per batch at most (an 8 MB block of log lines holds about 60,000)
MAX_BATCH_LINES = 128 * 1024
_NUL_RUN = re.compile(b"\x00{2,}")

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_ROTATION = re.compile(r"^(?P<base>.*?)(?:[.-](?P<n>[0-9]{1,3})|-(?P<date>[0-9]{8}(?:-[0-9]{6})?))?$")
_COMPRESSED_EXT = (".gz", ".bz2", ".xz", ".zst")


class InputError(Exception):
    """An input cannot be used (missing, empty folder, not a log). The message says why."""


@dataclass
class InputFile:
    """One input: a path (or ``-`` for stdin) and what was learned while reading it."""

    path: str
    compression: str = "none"
    format: str = "syslog"  # or "journald-json"
    size: int = 0
    mtime: datetime | None = None
    sha256: str = ""  # of the bytes as stored (compressed if compressed)
    content_sha256: str = ""  # of the decompressed text
    content_bytes: int = 0
    lines: int = 0
    head_sha256: str = ""  # of the first line, to recognise the same log under a new name
    warnings: list[str] = field(default_factory=list)  # problems met while reading

    @property
    def is_stdin(self) -> bool:
        """Whether this input is standard input."""
        return self.path == "-"


@dataclass
class LineBatch:
    """A batch of consecutive lines of one input."""

    lines: pl.Series
    flags: pl.Series
    first_line_no: int
    bytes_read: int = 0  # raw bytes of the input consumed so far (for progress)


@dataclass(frozen=True)
class SkippedInput:
    """A file of a folder or glob that was not read, and why."""

    path: str
    reason: str


@dataclass
class InputSet:
    """The inputs to read, in order, and the files of folders and globs left out."""

    inputs: list[InputFile]
    skipped: list[SkippedInput] = field(default_factory=list)


def expand_inputs(paths: Sequence[str]) -> list[InputFile]:
    """The inputs of :func:`gather_inputs` (without the files it skipped)."""
    return gather_inputs(paths).inputs


def gather_inputs(paths: Sequence[str]) -> InputSet:
    """Expand files, folders and globs into an ordered list of inputs.

    Rotated sets are ordered oldest first (``mail.log.2.gz``, ``mail.log.1``,
    ``mail.log``; dated suffixes by date). A file found in a folder or by a glob that
    is not a text log (binary content, cannot be opened or decompressed) is skipped and
    listed with its reason. Raises :class:`InputError` for a missing path, a folder with
    no files, a file named explicitly that is not a text log, or when nothing is left.
    """
    out: list[tuple[str, bool]] = []  # (path, named explicitly)
    for p in paths:
        if p == "-":
            out.append((p, True))
            continue
        if any(ch in p for ch in "*?[") and not os.path.exists(p):
            matches = sorted(m for m in glob.glob(p) if os.path.isfile(m))
            if not matches:
                raise InputError(f"no files match {p!r}")
            out.extend((m, False) for m in _rotation_order(matches))
        elif os.path.isdir(p):
            files = sorted(str(f) for f in Path(p).iterdir() if f.is_file() and not f.name.startswith("."))
            if not files:
                raise InputError(f"folder {p!r} holds no log files")
            out.extend((f, False) for f in _rotation_order(files))
        elif os.path.isfile(p):
            out.append((p, True))
        elif os.path.exists(p):
            raise InputError(f"{p!r} is not a regular file")
        else:
            raise InputError(f"no such file: {p!r}")
    seen: set[str] = set()
    found = InputSet([])
    for p, explicit in out:
        if p in seen:
            continue
        seen.add(p)
        if explicit:
            found.inputs.append(_describe(p))
            continue
        try:
            found.inputs.append(_describe(p))
        except _Unusable as exc:
            found.skipped.append(SkippedInput(p, exc.reason))
        except OSError as exc:  # e.g. /var/log/btmp, readable by root only
            found.skipped.append(SkippedInput(p, f"cannot be opened: {exc.strerror or exc}"))
    if not found.inputs and found.skipped:
        shown = "; ".join(f"{s.path!r}: {s.reason}" for s in found.skipped[:3])
        more = f" (and {len(found.skipped) - 3} more)" if len(found.skipped) > 3 else ""
        raise InputError(f"no text log to read: {shown}{more}")
    return found


class _Unusable(InputError):
    """A file that is no text log; ``reason`` says why without naming it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path!r} {reason}")
        self.reason = reason


def _rotation_key(path: str) -> tuple[str, int, str, str]:
    name = os.path.basename(path)
    for ext in _COMPRESSED_EXT:
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    m = _ROTATION.match(name)
    assert m is not None  # the pattern matches any string
    base = m["base"]
    if m["n"] is not None:
        # mail.log.3 is older than mail.log.1, which is older than mail.log
        return (os.path.join(os.path.dirname(path), base), -int(m["n"]), "", path)
    if m["date"] is not None:
        return (os.path.join(os.path.dirname(path), base), -1000, m["date"], path)
    return (os.path.join(os.path.dirname(path), base), 0, "", path)


def _rotation_order(paths: list[str]) -> list[str]:
    return [k[3] for k in sorted(_rotation_key(p) for p in paths)]


def _describe(path: str) -> InputFile:
    if path == "-":
        return InputFile(path="-", mtime=datetime.now(UTC))
    st = os.stat(path)
    with open(path, "rb") as fh:
        magic = fh.read(6)
    compression = next((c for m, c in _MAGIC.items() if magic.startswith(m)), "none")
    inp = InputFile(
        path=path,
        compression=compression,
        size=st.st_size,
        mtime=datetime.fromtimestamp(st.st_mtime, UTC),
    )
    samples = _samples(inp)
    why = binary_reason(samples)
    if why is not None:
        raise _Unusable(path, f"is not a text log (binary content: {why})")
    head = samples[0].replace(b"\x00", b"") if samples else b""
    if head.lstrip()[:1] == b"{" and _is_journald_json(head):
        inp.format = "journald-json"
    return inp


def _samples(inp: InputFile) -> list[bytes]:
    """Pieces of the content to judge it by: start, middle and end of a plain file; the
    first few blocks of a compressed one (until one holds something other than NULs)."""
    try:
        with open(inp.path, "rb") as raw:
            if inp.compression == "none":
                return _plain_samples(raw, inp.size)
            with open_decompressed(inp, raw) as fh:
                return _stream_samples(fh)
    except DECOMPRESS_ERRORS as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # cannot be opened at all (permissions, ...): an OS error, not a damaged stream
        raise _Unusable(inp.path, f"cannot be read: {exc}") from exc


def _plain_samples(raw: IO[bytes], size: int) -> list[bytes]:
    out = []
    for start in sorted({0, max(0, size // 2 - SAMPLE_BYTES // 2), max(0, size - SAMPLE_BYTES)}):
        raw.seek(start)
        out.append(raw.read(SAMPLE_BYTES))
    return out


def _stream_samples(fh: IO[bytes], blocks: int = 8) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(blocks):
        data = b""
        while len(data) < SAMPLE_BYTES:
            try:
                piece = fh.read(SAMPLE_BYTES - len(data))
            except DECOMPRESS_ERRORS:  # damaged: sample what is there
                piece = b""
            if not piece:
                break
            data += piece
        if data:
            out.append(data)
        if len(data) < SAMPLE_BYTES or data.strip(b"\x00"):
            break
    return out


#: bytes that are no text: C0 controls but TAB, LF, VT, FF, CR and ESC (colour codes); DEL
_CONTROL = np.ones(256, dtype=bool)
_CONTROL[32:127] = False
_CONTROL[128:] = False
_CONTROL[[0, 9, 10, 11, 12, 13, 27]] = False


def binary_reason(samples: Sequence[bytes]) -> str | None:
    """Why content is not a text log, or ``None`` if it is one.

    NUL bytes are left out: zero-filled blocks (a crash, a preallocated file) do not make
    a log binary, and a file of nothing but NULs is a log with no text. What is left must
    be text: at most 2 % control characters, at most 10 % bytes that are not UTF-8
    (Latin-1 subjects are text). Binary record files such as wtmp or lastlog are mostly
    NUL too, but their text comes in short NUL-padded fields, not in lines: many runs of
    padding with little between them, or padding and not one line break.
    """
    text_bytes = control = bad_utf8 = pads = newlines = 0
    for sample in samples:
        arr = np.frombuffer(sample, dtype=np.uint8)
        kept = sample.replace(b"\x00", b"")
        if not kept:
            continue
        text_bytes += len(kept)
        control += int(_CONTROL[arr].sum())
        decoded = kept.decode("utf-8", "replace")
        bad_utf8 += decoded.count("\ufffd") - kept.count("\ufffd".encode())
        newlines += kept.count(b"\n")
        pads += len(_NUL_RUN.findall(sample.strip(b"\x00")))
    if not text_bytes:
        return None
    if control > 0.02 * text_bytes:
        return f"{control / text_bytes:.0%} control characters"
    if bad_utf8 > 0.10 * text_bytes:
        return f"{bad_utf8 / text_bytes:.0%} bytes that are no text"
    if pads >= 4 and text_bytes < 80 * pads:
        return "short NUL-padded fields, as in a record file (wtmp, lastlog)"
    if pads and not newlines:
        return "NUL-padded fields and no line break"
    return None


def _is_journald_json(sample: bytes) -> bool:
    first = sample.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
    except ValueError:
        return False
    return isinstance(obj, dict) and ("MESSAGE" in obj or "__REALTIME_TIMESTAMP" in obj)


class _HashingReader(io.RawIOBase):
    """Wraps a binary file and hashes every byte read from it (the stored bytes)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hasher = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.hasher.update(data)
        self.count += n
        return n


def open_decompressed(inp: InputFile, raw: IO[bytes] | None = None) -> IO[bytes]:
    """A binary file of ``inp``'s decompressed content (``raw``: its stored bytes, open).

    Every kind gives ``read``, ``read1`` and ``readline``, and closing it closes ``raw``.
    """
    if raw is None:
        raw = sys.stdin.buffer if inp.is_stdin else open(inp.path, "rb")  # noqa: SIM115
    if inp.compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if inp.compression == "bz2":
        return bz2.BZ2File(raw, "rb")
    if inp.compression == "xz":
        return lzma.LZMAFile(raw, "rb")
    if inp.compression == "zstd":
        import zstandard

        # the stream reader has no readline (it raises UnsupportedOperation): buffered,
        # it is a file like the others; read_across_frames: pzstd and `cat a.zst b.zst`
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return io.BufferedReader(reader, buffer_size=READ_STEP)  # type: ignore[arg-type]
    return raw


def iter_batches(
    inp: InputFile,
    *,
    skip_lines: int = 0,
    block_bytes: int = BLOCK_BYTES,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_lines: int = MAX_BATCH_LINES,
    hold_partial: bool = False,
) -> Iterator[LineBatch]:
    """Yield batches of whole lines of ``inp``; fill in its hashes and line count.

    Parameters
    ----------
    inp
        The input (from :func:`gather_inputs`).
    skip_lines
        Lines at the start that are read (and hashed) but not yielded: they were ingested
        before.
    block_bytes, max_line_bytes
        Bytes read at a time; longer lines are cut (flagged ``truncated``).
    max_lines
        At most this many lines per batch (a block of empty lines holds millions: memory
        is bounded by lines as well as bytes).
    hold_partial
        A plain file's last line without its newline (a writer is still at it) is not
        yielded, counted or hashed: ``lines``, ``content_bytes`` and ``content_sha256``
        stop at the last newline, so the next read of the grown file starts with that
        line, whole. A compressed file or standard input has ended: its last line counts.

    Journald JSON exports are turned into RFC 3339 syslog lines.
    """
    if inp.is_stdin:
        raw_fh: IO[bytes] = sys.stdin.buffer
        owned = False
    else:
        raw_fh = open(inp.path, "rb")  # noqa: SIM115
        owned = True
    hashing = _HashingReader(raw_fh)
    buffered = io.BufferedReader(hashing, buffer_size=1 << 20)
    if inp.is_stdin:
        head = buffered.peek(6)[:6]
        inp.compression = next((c for m, c in _MAGIC.items() if head.startswith(m)), "none")
    damage = None
    if inp.compression != "none" and not inp.is_stdin:
        damage = find_damage(
            inp.path, inp.compression, lambda raw: open_decompressed(inp, raw), DECOMPRESS_ERRORS
        )
    fh = open_decompressed(inp, buffered)
    state = _ReadState(
        hold_partial=(hold_partial and inp.compression == "none" and not inp.is_stdin) or damage is not None,
        limit=damage.trusted_bytes if damage else None,
    )
    line_no = 0
    first_line: bytes | None = None
    try:
        for block, first_truncated in _blocks(
            fh, block_bytes, max_line_bytes, max_lines, state, inp.warnings
        ):
            if first_line is None:
                first_line = block.split(b"\n", 1)[0]
            lines, flags = _split_block(block, max_line_bytes, first_truncated)
            n = len(lines)
            start = line_no
            line_no += n
            if line_no <= skip_lines:
                continue
            if start < skip_lines:
                lines = lines.slice(skip_lines - start)
                flags = flags.slice(skip_lines - start)
                start = skip_lines
            if inp.format == "journald-json":
                lines = _journald_lines(lines)
            for at in range(0, len(lines), max_lines):
                yield LineBatch(
                    lines.slice(at, max_lines), flags.slice(at, max_lines), start + at + 1, hashing.count
                )
        # drain what the decompressor did not need (e.g. trailing garbage) so the hash is complete
        while buffered.read(1 << 20):
            pass
        if damage is not None:
            where = f"byte {damage.offset:,} of the file ({damage.reason})"
            what = (
                f"compressed data ends early, at {where}"
                if damage.truncated
                else f"compressed data damaged at or before {where}"
            )
            inp.warnings.append(
                f"{what}: read up to the last whole line before it (line {line_no:,}, "
                f"{state.complete_bytes:,} bytes of text); nothing past the damage is stored"
            )
        if state.nul_dropped:
            inp.warnings.append(
                f"{state.nul_dropped:,} NUL bytes (zero-filled blocks, as a crash leaves): "
                "each run read as one NUL"
            )
    except DECOMPRESS_ERRORS as exc:
        raise InputError(f"{inp.path!r}: read error after line {line_no}: {exc}") from exc
    finally:
        if owned:
            raw_fh.close()
    inp.sha256 = hashing.hasher.hexdigest()
    inp.content_sha256 = state.complete_hash.hexdigest()
    inp.content_bytes = state.complete_bytes
    inp.lines = line_no
    inp.head_sha256 = hashlib.sha256(first_line or b"").hexdigest()
    if inp.is_stdin:
        inp.size = hashing.count


@dataclass
class _ReadState:
    """What :func:`_blocks` learns while reading: content hash and size (up to the last
    newline when ``hold_partial``), NUL bytes dropped."""

    hold_partial: bool = False
    limit: int | None = None  # decompressed bytes to read at most (what comes before damage)
    content_hash: Any = field(default_factory=hashlib.sha256)  # every decompressed byte
    content_bytes: int = 0
    complete_hash: Any = field(default_factory=hashlib.sha256)  # the bytes the yielded lines hold
    complete_bytes: int = 0
    nul_dropped: int = 0

    def feed(self, data: bytes) -> None:
        """Hash decompressed bytes as read (before NUL runs are squeezed)."""
        if not self.hold_partial:
            self.content_hash.update(data)
            self.content_bytes += len(data)
            self.complete_hash, self.complete_bytes = self.content_hash, self.content_bytes
            return
        nl = data.rfind(b"\n")
        if nl < 0:
            self.content_hash.update(data)
            self.content_bytes += len(data)
            return
        view = memoryview(data)
        self.content_hash.update(view[: nl + 1])
        self.complete_hash = self.content_hash.copy()
        self.complete_bytes = self.content_bytes + nl + 1
        self.content_hash.update(view[nl + 1 :])
        self.content_bytes += len(data)

    def finish(self, partial: bool) -> None:
        """The stream has ended; ``partial``: with a last line that has no newline."""
        if not partial or not self.hold_partial:
            self.complete_hash, self.complete_bytes = self.content_hash, self.content_bytes


def _blocks(
    fh: IO[bytes], block_bytes: int, max_line: int, max_lines: int, state: _ReadState, warnings: list[str]
) -> Iterator[tuple[bytes, bool]]:
    """Blocks of whole lines (each ends in ``\\n``); long lines cut to ``max_line`` bytes.

    A block ends after ``block_bytes``, or once it holds ``max_lines`` line breaks (at most
    one read step more): a block of empty lines is not millions of rows.

    Every byte read is fed to ``state`` before any change; a run of NUL bytes then
    becomes one NUL (the bytes dropped are counted in ``state.nul_dropped``), so a
    zero-filled block does not push a line past ``max_line``. A last line without its
    newline is yielded (with one added) unless ``state.hold_partial``.
    Yields ``(block, first_line_truncated)``.
    """
    carry = b""
    after_nul = False  # the text so far ends in a NUL (a run may go on in the next block)
    carry_truncated = False
    skipping = False
    # read1: one decompressor call per read, so a damaged stream loses nothing before it
    read = getattr(fh, "read1", fh.read)
    ended = False
    while not ended:
        # read in modest steps: a decompressor that meets a cut-off stream raises and
        # drops the output of that one call only
        parts: list[bytes] = []
        got = 0
        breaks = 0
        while got < block_bytes and breaks < max_lines:
            step = min(READ_STEP, block_bytes - got)
            if state.limit is not None:
                step = min(step, state.limit - state.content_bytes - got)
                if step <= 0:
                    ended = True
                    break
            try:
                piece = read(step)
            except DECOMPRESS_ERRORS as exc:
                # a compressed stream cut short or damaged: keep what it held
                warnings.append(f"compressed data ends early or is damaged ({exc}): read up to that point")
                ended = True
                break
            if not piece:
                ended = True
                break
            parts.append(piece)
            got += len(piece)
            breaks += piece.count(b"\n")
        data = b"".join(parts)
        if not data:
            break
        state.feed(data)
        if b"\x00" in data:
            size = len(data)
            data = _NUL_RUN.sub(b"\x00", data)
            if after_nul and data[:1] == b"\x00":
                data = data[1:]
            state.nul_dropped += size - len(data)
            after_nul = after_nul if not data else data[-1:] == b"\x00"
            if not data:
                continue
        else:
            after_nul = False
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                continue
            data = data[nl:]
            skipping = False
        buf = carry + data if carry else data
        last = buf.rfind(b"\n")
        if last < 0:
            carry = buf
            if len(carry.removesuffix(b"\r")) > max_line:
                carry = carry[:max_line]
                carry_truncated = True
                skipping = True
            continue
        yield buf[: last + 1], carry_truncated
        carry_truncated = False
        carry = buf[last + 1 :]
        if len(carry.removesuffix(b"\r")) > max_line:
            carry = carry[:max_line]
            carry_truncated = True
            skipping = True
    partial = bool(carry) or skipping
    state.finish(partial)
    if partial and state.hold_partial:
        if state.limit is None:
            warnings.append(
                "the last line has no newline yet (still being written?): held back, "
                "a later ingest reads it once it is complete"
            )
    elif carry:
        yield carry + b"\n", carry_truncated


def _split_block(block: bytes, max_line: int, first_truncated: bool) -> tuple[pl.Series, pl.Series]:
    """Cut a block of ``\\n``-terminated lines into a string series and per-line flags."""
    arr = np.frombuffer(block, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    n = len(nl)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = nl + 1
    flags = np.zeros(n, dtype=np.uint8)
    if first_truncated and n:
        flags[0] |= FLAG_BITS["truncated"]
    lengths = np.diff(offsets) - 1
    has_cr = np.zeros(n, dtype=bool)
    nonempty = lengths > 0
    has_cr[nonempty] = arr[nl[nonempty] - 1] == 13
    flags[has_cr] |= FLAG_BITS["crlf"]
    too_long = lengths - has_cr > max_line
    arrow = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(block))
    try:
        arrow.validate(full=True)
        series = pl.Series("line", arrow, dtype=pl.String)
    except pa.ArrowInvalid:
        texts = []
        for i, raw in enumerate(block[:-1].split(b"\n")):
            try:
                texts.append(raw.decode("utf-8") + "\n")
            except UnicodeDecodeError:
                texts.append(raw.decode("utf-8", "replace") + "\n")
                flags[i] |= FLAG_BITS["invalid_utf8"]
        series = pl.Series("line", texts, dtype=pl.String)
    series = series.str.strip_suffix("\n")
    if has_cr.any():
        series = series.str.strip_suffix("\r")
    if too_long.any():
        flags[too_long] |= FLAG_BITS["truncated"]
        texts = series.to_list()
        for i in np.flatnonzero(too_long).tolist():
            cut = texts[i].encode("utf-8")[:max_line]
            texts[i] = cut.decode("utf-8", "ignore")
        series = pl.Series("line", texts, dtype=pl.String)
    return series, pl.Series("flags", flags)


def _journald_lines(lines: pl.Series) -> pl.Series:
    """Turn ``journalctl -o json`` records into RFC 3339 (UTC) syslog lines."""
    out = []
    for text in lines.to_list():
        out.append(_journald_line(text))
    return pl.Series("line", out, dtype=pl.String)


def _journald_line(text: str) -> str:
    try:
        rec = json.loads(text)
    except ValueError:
        return text
    if not isinstance(rec, dict):
        return text
    msg = rec.get("MESSAGE", "")
    if isinstance(msg, list):  # binary payloads are exported as byte arrays
        msg = bytes(b & 0xFF for b in msg if isinstance(b, int)).decode("utf-8", "replace")
    msg = str(msg).replace("\n", "?")
    ts_us = rec.get("_SOURCE_REALTIME_TIMESTAMP") or rec.get("__REALTIME_TIMESTAMP")
    try:
        ts = datetime.fromtimestamp(int(str(ts_us)) / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return text
    host = str(rec.get("_HOSTNAME") or "-").replace(" ", "_")
    ident = str(rec.get("SYSLOG_IDENTIFIER") or rec.get("_COMM") or "-").replace(" ", "_")
    pid = rec.get("SYSLOG_PID") or rec.get("_PID")
    tag = f"{ident}[{pid}]" if pid and str(pid).isdigit() else ident
    return f"{ts} {host} {tag}: {msg}"


def file_sha256(path: str) -> str:
    """SHA-256 of a file's stored bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_line(path: str, line_no: int) -> str | None:
    """Return line ``line_no`` (1-based) of a log file, decompressing as needed (evidence)."""
    inp = _describe(path)
    for batch in iter_batches(inp):
        last = batch.first_line_no + len(batch.lines) - 1
        if batch.first_line_no <= line_no <= last:
            return str(batch.lines[line_no - batch.first_line_no])
    return None


def content_prefix_sha256(inp: InputFile, nbytes: int) -> str | None:
    """SHA-256 of the first ``nbytes`` decompressed bytes (``None`` if shorter)."""
    if inp.is_stdin:
        return None
    h = hashlib.sha256()
    left = nbytes
    with open(inp.path, "rb") as raw, open_decompressed(inp, raw) as fh:
        while left > 0:
            data = fh.read(min(left, 1 << 20))
            if not data:
                return None
            h.update(data)
            left -= len(data)
    return h.hexdigest()
