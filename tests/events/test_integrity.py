"""Damaged compressed files: reading stops before the damage, never stores garbage."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard

import maillog_forensics as mf
from maillog_forensics.events.store import read_manifest

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
}

LINES = [
    f"Nov 27 19:{i // 60 % 60:02d}:{i % 60:02d} mail postfix/smtpd[{i}]: connect from x[192.0.2.{i % 250}]"
    for i in range(120_000)
]


def damaged(data: bytes, how: str) -> bytes:
    out = bytearray(data)
    mid = len(out) // 2
    noise = random.Random(7)
    out[mid : mid + 512] = bytes(noise.randrange(256) for _ in range(512)) if how == "noise" else bytes(512)
    return bytes(out)


@pytest.mark.parametrize("how", ["noise", "zeros"])
@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_damaged_file_stops_at_the_damage_with_no_garbage_rows(tmp_path: Path, ext: str, how: str) -> None:
    log = tmp_path / f"mail.log.1.{ext}"
    log.write_bytes(damaged(COMPRESSORS[ext](("\n".join(LINES) + "\n").encode()), how))
    ds = tmp_path / "ds"
    stats = mf.ingest([str(log)], ds, tz="UTC", year=2026, threads=1)
    stored = list(mf.load_events(ds, columns=["message", "line_no"])["line_no"])
    assert 0 < stats.lines < len(LINES)
    messages = mf.load_events(ds)["message"].tolist()
    # exactly the lines before the damage: the first N, whole, in order (gzip with zeroed
    # deflate data decodes on into shuffled copies of earlier lines: none of them stored)
    want = [line.split(": ", 1)[1] for line in LINES[: stats.lines]]
    assert messages == want and stored == list(range(1, stats.lines + 1))
    (entry,) = read_manifest(ds)["inputs"]
    (warning,) = entry["warnings"]
    assert f"line {stats.lines:,}" in warning and "nothing past the damage is stored" in warning
    assert "at or before byte " in warning
    # reading it again adds nothing (the prefix it stored is recognised)
    assert mf.ingest([str(log)], ds, tz="UTC", year=2026).lines == 0


def test_zeroed_gzip_data_is_located_at_its_offset(tmp_path: Path) -> None:
    from maillog_forensics.events import sources
    from maillog_forensics.events.integrity import find_damage

    data = bytearray(gzip.compress(("\n".join(LINES) + "\n").encode()))
    at = len(data) // 3
    data[at : at + 4096] = bytes(4096)
    log = tmp_path / "mail.log.2.gz"
    log.write_bytes(bytes(data))
    (inp,) = sources.expand_inputs([str(log)])
    damage = find_damage(
        str(log), inp.compression, lambda raw: sources.open_decompressed(inp, raw), sources.DECOMPRESS_ERRORS
    )
    assert damage is not None and damage.offset == at and "CRC" in damage.reason
    text = ("\n".join(LINES) + "\n").encode()
    assert 0 < damage.trusted_bytes < len(text) // 2


def test_whole_compressed_files_have_no_damage(tmp_path: Path) -> None:
    from maillog_forensics.events import sources
    from maillog_forensics.events.integrity import find_damage

    for ext, compress in COMPRESSORS.items():
        log = tmp_path / f"mail.log.{ext}"
        log.write_bytes(compress(b"a\nb\n") + compress(b"c\n"))
        inp = sources.expand_inputs([str(log)])[0]

        def open_stream(raw: Any, inp: sources.InputFile = inp) -> Any:
            return sources.open_decompressed(inp, raw)

        assert find_damage(str(log), inp.compression, open_stream, sources.DECOMPRESS_ERRORS) is None


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_a_cut_off_file_keeps_every_whole_line_it_holds(tmp_path: Path, ext: str) -> None:
    text = ("\n".join(LINES) + "\n").encode()
    whole = COMPRESSORS[ext](text)
    log = tmp_path / f"mail.log.3.{ext}"
    log.write_bytes(whole[: len(whole) * 2 // 3])
    ds = tmp_path / "ds"
    stats = mf.ingest([str(log)], ds, tz="UTC", year=2026, threads=1)
    messages = mf.load_events(ds)["message"].tolist()
    assert messages == [line.split(": ", 1)[1] for line in LINES[: stats.lines]]
    assert stats.lines > len(LINES) // 3  # nothing good is dropped: all but the cut line
    (warning,) = read_manifest(ds)["inputs"][0]["warnings"]
    assert "ends early" in warning or "damaged" in warning
