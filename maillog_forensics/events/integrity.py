"""Where a damaged compressed file stops being trustworthy.

A decompressor that meets damage does not always stop there: a gzip member whose deflate
data was zeroed decodes on into plausible text (copies of earlier lines, shuffled) and
only its CRC, at the member's end, says something was wrong. Reading must therefore stop
before the damage, not where the decompressor noticed it, and that needs a look at the
whole stream first: :func:`find_damage` decompresses the file once (output discarded) and
says how many decompressed bytes come before the damage.

- A file cut off (``EOFError``): everything decoded is kept.
- A stream error (xz, zstd, a broken deflate block): the output decoded from the
  compressed bytes up to 64 KiB before the point the decompressor noticed it is kept.
- bzip2 checks a block (up to 900 kB of text) at its end: the output of the damaged
  block is dropped (from its start, found by its 48-bit magic).
- A gzip CRC mismatch: the damage is located by the first run of NUL bytes in the
  compressed data (a zero-filled block, as crashes and bad sectors leave: deflate output
  never holds such a run); the output decoded from before it is kept. Damage that cannot
  be located keeps nothing of the file (the garbage could start anywhere).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

__all__ = ["Damage", "find_damage"]

#: a run of NUL bytes this long in compressed data is damage, not data
_NUL_RUN = re.compile(b"\x00{64,}")
_STEP = 64 << 10


@dataclass(frozen=True)
class Damage:
    """Damage found in a compressed file.

    Attributes
    ----------
    offset
        Byte offset in the stored (compressed) file where the damage is, as far as known.
    trusted_bytes
        Decompressed bytes before it: read these and no more.
    reason
        What the decompressor said.
    truncated
        The file ends early (cut off, not damaged): all it holds is good.
    """

    offset: int
    trusted_bytes: int
    reason: str
    truncated: bool = False


class _Counting(io.RawIOBase):
    """A raw binary file that counts the bytes read from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(b))
        b[: len(data)] = data
        self.count += len(data)
        return len(data)


def find_damage(
    path: str,
    compression: str,
    open_stream: Callable[[IO[bytes]], IO[bytes]],
    errors: tuple[type[BaseException], ...],
) -> Damage | None:
    """Decompress a file once and say where it is damaged (``None``: it is whole).

    Parameters
    ----------
    path
        The stored (compressed) file.
    compression
        ``gzip``, ``bz2``, ``xz`` or ``zstd``.
    open_stream
        ``callable(raw) -> binary file`` of the decompressed content (``sources``'
        ``open_decompressed`` for the file's compression).
    errors
        What the decompressor raises on damage.

    Returns
    -------
    Damage or None
    """
    steps: list[tuple[int, int]] = []  # (compressed bytes read, decompressed bytes out) before each read
    out = 0
    with open(path, "rb") as fh:
        raw = _Counting(fh)
        stream = open_stream(raw)  # type: ignore[arg-type]
        read = getattr(stream, "read1", stream.read)
        try:
            while True:
                steps.append((raw.count, out))
                try:
                    piece = read(_STEP)
                except errors as exc:
                    reason = str(exc) or type(exc).__name__
                    truncated = isinstance(exc, EOFError)
                    break
                if not piece:
                    if compression == "zstd" and _zstd_cut_off(path):
                        # zstd's stream reader ends quietly where a frame is cut off
                        reason = "the last zstd frame is cut off"
                        return Damage(offset=raw.count, trusted_bytes=out, reason=reason, truncated=True)
                    return None
                out += len(piece)
        finally:
            stream.close()
    noticed = raw.count
    if truncated:  # cut off: what was decoded is good
        return Damage(offset=noticed, trusted_bytes=out, reason=reason, truncated=True)
    if compression == "gzip" and ("crc" in reason.lower() or "incorrect data check" in reason.lower()):
        at = _first_nul_run(path)
        if at is None:
            return Damage(offset=0, trusted_bytes=0, reason=f"{reason}; the damage cannot be located")
    elif compression == "bz2":
        at = _bz2_block_start_before(path, noticed)
    else:
        at = max(0, noticed - _MARGIN)
    # output made while only bytes before ``at`` had been read
    trusted = max((o for c, o in steps if c <= at), default=0)
    return Damage(offset=at if at else noticed, trusted_bytes=trusted, reason=reason)


#: compressed bytes before the point a decompressor noticed damage that may already be
#: damaged (it decodes a little garbage before its checks fail)
_MARGIN = 64 << 10
#: the 48-bit magic that starts every bzip2 block (not byte-aligned)
_BZ2_BLOCK = 0x314159265359
#: a compressed bzip2 block is at most about this long (900 kB of text, plus overhead)
_BZ2_MAX_BLOCK = 1 << 20


def _bz2_block_start_before(path: str, end: int) -> int:
    """Byte offset of the last bzip2 block that starts before ``end`` (its output is not
    checked until the block's end: all of it is suspect)."""
    base = max(0, end - _BZ2_MAX_BLOCK)
    with open(path, "rb") as fh:
        fh.seek(base)
        data = fh.read(end - base)
    best = 0
    for shift in range(8):
        pattern = (_BZ2_BLOCK << (8 - shift)).to_bytes(7, "big")
        mask = (((1 << 48) - 1) << (8 - shift)).to_bytes(7, "big")
        at = data.find(pattern[1:6])
        while at != -1:
            window = data[at - 1 : at + 6] if at >= 1 else b""
            if len(window) == 7 and all((window[i] & mask[i]) == pattern[i] & mask[i] for i in (0, 6)):
                best = max(best, base + at - 1)
            at = data.find(pattern[1:6], at + 1)
    return best


def _first_nul_run(path: str) -> int | None:
    """Offset of the first run of 64 NUL bytes in a file, read 1 MB at a time."""
    keep = 64
    base = 0
    tail = b""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            data = tail + block
            found = _NUL_RUN.search(data)
            if found is not None:
                return base - len(tail) + found.start()
            tail = data[-keep:]
            base += len(block)
    return None


def _zstd_cut_off(path: str) -> bool:
    """Whether a zstd file's last frame is incomplete (output discarded; 1 KB of input a
    call bounds what one call gives, whatever the ratio)."""
    import zstandard

    with open(path, "rb") as fh:
        frame = zstandard.ZstdDecompressor().decompressobj()
        started = False
        while chunk := fh.read(1 << 10):
            while chunk:
                frame.decompress(chunk)
                started = True
                if not frame.eof:
                    break
                chunk = frame.unused_data
                frame = zstandard.ZstdDecompressor().decompressobj()
                started = False
    return started
