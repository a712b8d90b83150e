"""Tests for maillog_forensics.events.sources: finding inputs and reading them as line batches."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import sys
import types
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard

from maillog_forensics.events import parse, sources
from maillog_forensics.events.schema import FLAG_BITS
from maillog_forensics.events.sources import InputError, expand_inputs, iter_batches, read_line

TRUNCATED = FLAG_BITS["truncated"]
INVALID_UTF8 = FLAG_BITS["invalid_utf8"]
CRLF = FLAG_BITS["crlf"]

COMPRESSORS = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}

#: 30 syslog-looking lines (about 2 KB), so small block sizes give many batches
LOG_TEXT = "".join(
    f"Feb  3 11:57:{i:02d} mx.example.com postfix/smtpd[{1000 + i}]: connect from unknown[192.0.2.{i}]\n"
    for i in range(30)
)
LOG_LINES = LOG_TEXT.splitlines()


def read_all(inp: sources.InputFile, **kw: int) -> tuple[list[str], list[int]]:
    """All lines and flags of an input; checks that batch line numbers follow on."""
    lines: list[str] = []
    flags: list[int] = []
    expected_first = kw.get("skip_lines", 0) + 1
    for batch in iter_batches(inp, **kw):
        assert batch.first_line_no == expected_first
        assert len(batch.lines) == len(batch.flags)
        lines.extend(batch.lines.to_list())
        flags.extend(batch.flags.to_list())
        expected_first += len(batch.lines)
    return lines, flags


def one_input(path: Path) -> sources.InputFile:
    inputs = expand_inputs([str(path)])
    assert len(inputs) == 1
    return inputs[0]


def read_bytes(tmp_path: Path, data: bytes, name: str = "mail.log", **kw: int) -> tuple[list[str], list[int]]:
    path = tmp_path / name
    path.write_bytes(data)
    return read_all(one_input(path), **kw)


def names(inputs: list[sources.InputFile]) -> list[str]:
    return [os.path.basename(i.path) for i in inputs]


# ---------------------------------------------------------------------------- compression


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_compressed_file_named_like_plain_gives_same_lines(tmp_path: Path, compression: str) -> None:
    raw = LOG_TEXT.encode()
    stored = COMPRESSORS[compression](raw)
    path = tmp_path / "mail.log"  # no telling extension: detected from the content
    path.write_bytes(stored)

    inp = one_input(path)
    lines, flags = read_all(inp, block_bytes=256)

    assert inp.compression == compression
    assert lines == LOG_LINES
    assert flags == [0] * len(LOG_LINES)
    assert inp.lines == len(LOG_LINES)
    assert inp.sha256 == hashlib.sha256(stored).hexdigest()
    assert inp.content_sha256 == hashlib.sha256(raw).hexdigest()
    assert inp.content_bytes == len(raw)


def test_plain_file_with_compressed_extension_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "mail.log.gz"
    path.write_text(LOG_TEXT)
    inp = one_input(path)
    lines, _ = read_all(inp)
    assert inp.compression == "none"
    assert lines == LOG_LINES
    assert inp.sha256 == hashlib.sha256(LOG_TEXT.encode()).hexdigest()


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_concatenated_compressed_members_are_all_read(tmp_path: Path, compression: str) -> None:
    compress = COMPRESSORS[compression]
    path = tmp_path / "mail.log.1"
    path.write_bytes(compress(b"first\nsecond\n") + compress(b"third\n"))
    lines, _ = read_all(one_input(path))
    assert lines == ["first", "second", "third"]


# ---------------------------------------------------------------------------- line splitting


def test_last_line_without_newline_counts(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_bytes(b"one\ntwo\nthree")
    inp = one_input(path)
    lines, flags = read_all(inp)
    assert lines == ["one", "two", "three"]
    assert flags == [0, 0, 0]
    assert inp.lines == 3


def test_empty_file_gives_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_bytes(b"")
    inp = one_input(path)
    assert list(iter_batches(inp)) == []
    assert inp.lines == 0
    assert inp.content_sha256 == hashlib.sha256(b"").hexdigest()


def test_blank_lines_are_kept_as_empty_rows(tmp_path: Path) -> None:
    data = b"first\n\nthird\n\n\nsixth\n"
    lines, flags = read_bytes(tmp_path, data)
    assert lines == ["first", "", "third", "", "", "sixth"]
    assert len(lines) == data.count(b"\n")
    assert flags == [0] * 6


def test_crlf_is_removed_and_flagged_lone_cr_kept(tmp_path: Path) -> None:
    lines, flags = read_bytes(tmp_path, b"first\r\nmid\rdle\nlast\r\n")
    assert lines == ["first", "mid\rdle", "last"]
    assert flags == [CRLF, 0, CRLF]


def test_invalid_utf8_is_replaced_and_flagged_on_that_line_only(tmp_path: Path) -> None:
    lines, flags = read_bytes(tmp_path, b"ok one\ncaf\xe9 au lait\nok two\n")
    assert lines == ["ok one", "caf\ufffd au lait", "ok two"]
    assert flags == [0, INVALID_UTF8, 0]


def test_nul_bytes_are_kept_in_the_text(tmp_path: Path) -> None:
    lines, flags = read_bytes(tmp_path, b"before\nnul\x00inside\x00\nafter\n")
    assert lines == ["before", "nul\x00inside\x00", "after"]
    assert not any(f & INVALID_UTF8 for f in flags)


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_over_long_lines_are_cut_and_flagged(tmp_path: Path, block_bytes: int) -> None:
    data = b"A" * 300 + b"\nshort line\n" + b"B" * 150 + b"\ntail\n" + b"C" * 250
    path = tmp_path / "mail.log"
    path.write_bytes(data)
    inp = one_input(path)
    lines, flags = read_all(inp, block_bytes=block_bytes, max_line_bytes=100)
    assert lines == ["A" * 100, "short line", "B" * 100, "tail", "C" * 100]
    assert flags == [TRUNCATED, 0, TRUNCATED, 0, TRUNCATED]
    assert inp.lines == 5


@pytest.mark.parametrize("block_bytes", [7, 64, 101, 4096])
def test_lines_and_flags_do_not_depend_on_block_size(tmp_path: Path, block_bytes: int) -> None:
    # the first line holds exactly max_line_bytes bytes before its CR LF: it is not over-long
    data = b"a" * 100 + b"\r\n" + b"short\n" + b"b" * 250 + b"\n" + b"c" * 99 + b"\r\nend"
    lines, flags = read_bytes(tmp_path, data, block_bytes=block_bytes, max_line_bytes=100)
    assert lines == ["a" * 100, "short", "b" * 100, "c" * 99, "end"]
    assert flags == [CRLF, 0, TRUNCATED, CRLF, 0]


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_over_long_multibyte_line_is_cut_to_max_line_bytes(tmp_path: Path, block_bytes: int) -> None:
    data = ("é" * 80).encode() + b"\nnext\n"  # 160 bytes, 80 characters
    lines, flags = read_bytes(tmp_path, data, block_bytes=block_bytes, max_line_bytes=100)
    assert len(lines) == 2
    assert len(lines[0].encode("utf-8")) <= 100
    assert lines[0].startswith("é" * 40)
    assert flags[0] & TRUNCATED
    assert lines[1] == "next"


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_every_file_opened_is_closed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    path = tmp_path / "mail.log.1"
    path.write_bytes(COMPRESSORS[compression](LOG_TEXT.encode()))
    opened: list[io.BufferedReader] = []

    def tracking_open(file: str, mode: str = "r") -> io.BufferedReader:
        fh = open(file, mode)  # noqa: SIM115
        opened.append(fh)
        return fh

    monkeypatch.setattr(sources, "open", tracking_open, raising=False)
    try:
        inp = one_input(path)
        read_all(inp)
        assert read_line(str(path), 2) == LOG_LINES[1]
        assert sources.content_prefix_sha256(inp, 10) is not None
        assert opened
        still_open = [fh.name for fh in opened if not fh.closed]
        assert still_open == []
    finally:
        for fh in opened:
            fh.close()


# ---------------------------------------------------------------------------- skip, hashes, read_line


def test_skip_lines_yields_the_rest_but_hashes_everything(tmp_path: Path) -> None:
    path = tmp_path / "mail.log.gz"
    path.write_bytes(gzip.compress(LOG_TEXT.encode()))
    inp = one_input(path)
    lines, _ = read_all(inp, skip_lines=7, block_bytes=200)  # read_all checks numbering from 8
    assert lines == LOG_LINES[7:]
    assert inp.lines == len(LOG_LINES)
    assert inp.content_sha256 == hashlib.sha256(LOG_TEXT.encode()).hexdigest()


def test_skip_lines_past_the_end_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_text(LOG_TEXT)
    inp = one_input(path)
    assert list(iter_batches(inp, skip_lines=100)) == []
    assert inp.lines == len(LOG_LINES)


def test_sha256_of_stored_bytes_and_content_sha256_of_decompressed(tmp_path: Path) -> None:
    raw = b"alpha\nbeta\ngamma\n"
    stored = gzip.compress(raw, mtime=0)
    path = tmp_path / "mail.log.2.gz"
    path.write_bytes(stored)
    inp = one_input(path)
    read_all(inp)
    assert inp.sha256 == hashlib.sha256(stored).hexdigest() == sources.file_sha256(str(path))
    assert inp.content_sha256 == hashlib.sha256(raw).hexdigest()
    assert inp.content_bytes == len(raw)
    assert inp.size == len(stored)
    assert inp.head_sha256 == hashlib.sha256(b"alpha").hexdigest()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"one\ntwo", id="no-final-newline"),
        pytest.param(b"short\n" + b"X" * 300 + b"\nend\n", id="over-long-line"),
    ],
)
def test_content_hash_is_of_the_decompressed_bytes_as_stored(tmp_path: Path, data: bytes) -> None:
    # ingest recognises a grown log by content_prefix_sha256(inp, content_bytes) == content_sha256
    path = tmp_path / "mail.log"
    path.write_bytes(data)
    inp = one_input(path)
    read_all(inp, block_bytes=64, max_line_bytes=100)
    assert inp.content_bytes == len(data)
    assert inp.content_sha256 == hashlib.sha256(data).hexdigest()
    assert sources.content_prefix_sha256(inp, inp.content_bytes) == inp.content_sha256


def test_read_line_returns_the_exact_line(tmp_path: Path) -> None:
    text = "first\n  second\twith  spaces \nthird: x\n" + LOG_TEXT
    path = tmp_path / "mail.log.1.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert read_line(str(path), 1) == "first"
    assert read_line(str(path), 2) == "  second\twith  spaces "
    assert read_line(str(path), 3) == "third: x"
    assert read_line(str(path), 4 + 17) == LOG_LINES[17]
    assert read_line(str(path), 1000) is None


# ---------------------------------------------------------------------------- expand_inputs


def test_folder_is_ordered_oldest_rotation_first(tmp_path: Path) -> None:
    (tmp_path / "mail.log").write_text("live\n")
    (tmp_path / "mail.log.1").write_text("one\n")
    (tmp_path / "mail.log.2.gz").write_bytes(gzip.compress(b"two\n"))
    (tmp_path / "mail.log.10.gz").write_bytes(gzip.compress(b"ten\n"))
    expected = ["mail.log.10.gz", "mail.log.2.gz", "mail.log.1", "mail.log"]

    assert names(expand_inputs([str(tmp_path)])) == expected
    assert names(expand_inputs([str(tmp_path / "mail.log*")])) == expected


def test_dated_rotations_are_ordered_by_date_then_live_file(tmp_path: Path) -> None:
    for name in ("mail.log", "mail.log-20260102", "mail.log-20260101"):
        (tmp_path / name).write_text(f"{name}\n")
    expected = ["mail.log-20260101", "mail.log-20260102", "mail.log"]
    assert names(expand_inputs([str(tmp_path)])) == expected
    assert names(expand_inputs([str(tmp_path / "mail.log*")])) == expected


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    with pytest.raises(InputError) as err:
        expand_inputs([str(missing)])
    assert str(missing) in str(err.value)


def test_empty_folder_raises_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(InputError) as err:
        expand_inputs([str(folder)])
    assert str(folder) in str(err.value)


def test_glob_matching_nothing_raises_input_error(tmp_path: Path) -> None:
    (tmp_path / "mail.log").write_text("x\n")
    pattern = str(tmp_path / "*.nothing")
    with pytest.raises(InputError) as err:
        expand_inputs([pattern])
    assert pattern in str(err.value)


def test_binary_file_raises_input_error(tmp_path: Path) -> None:
    rng = random.Random(20260101)
    # every other byte a control character: far above any text log's share
    body = bytes(rng.randrange(32) if i % 2 else rng.randrange(256) for i in range(4096))
    path = tmp_path / "mail.log"
    path.write_bytes(b"\x00\x01\x02\x03" + body)
    with pytest.raises(InputError) as err:
        expand_inputs([str(path)])
    assert str(path) in str(err.value)


# ---------------------------------------------------------------------------- journald


def journald_record(ts_us: int, ident: str, pid: int, message: str | list[int]) -> str:
    return json.dumps(
        {
            "__REALTIME_TIMESTAMP": str(ts_us),
            "_HOSTNAME": "mx.example.com",
            "SYSLOG_IDENTIFIER": ident,
            "_PID": str(pid),
            "MESSAGE": message,
            "_TRANSPORT": "syslog",
        }
    )


def test_journald_json_export_becomes_rfc3339_syslog_lines(tmp_path: Path) -> None:
    sasl = "warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
    binary = list("3F1A2B4C5D: removed, café".encode())
    path = tmp_path / "journal.json"
    path.write_text(
        journald_record(1767225600123457, "postfix/submission/smtpd", 4242, sasl)
        + "\n"
        + journald_record(1767225601000000, "postfix/qmgr", 17, binary)
        + "\n"
    )
    inp = one_input(path)
    assert inp.format == "journald-json"
    lines, _ = read_all(inp)
    assert lines == [
        f"2026-01-01T00:00:00.123457Z mx.example.com postfix/submission/smtpd[4242]: {sasl}",
        "2026-01-01T00:00:01.000000Z mx.example.com postfix/qmgr[17]: 3F1A2B4C5D: removed, café",
    ]

    # a zone in the context must not move an RFC 3339 UTC stamp
    ctx = parse.TimeContext("Europe/Berlin", 2026)
    row = parse.reference_parse(lines[:1], source_file=str(path), first_line_no=1, ctx=ctx).table.to_pylist()[
        0
    ]
    assert row["ts"] == datetime(2026, 1, 1, 0, 0, 0, 123457, tzinfo=UTC)
    assert row["host"] == "mx.example.com"
    assert row["program"] == "postfix/submission/smtpd"
    assert row["service"] == "submission"
    assert row["daemon"] == "smtpd"
    assert row["pid"] == 4242
    assert row["kind"] == "sasl_failed"
    assert row["client_ip"] == "192.0.2.7"


def test_plain_syslog_file_is_not_journald(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_text(LOG_TEXT)
    assert one_input(path).format == "syslog"


# ---------------------------------------------------------------------------- stdin


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_stdin_is_read_and_decompressed(monkeypatch: pytest.MonkeyPatch, compressed: bool) -> None:
    stored = gzip.compress(LOG_TEXT.encode()) if compressed else LOG_TEXT.encode()
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BufferedReader(io.BytesIO(stored))))
    inputs = expand_inputs(["-"])
    assert len(inputs) == 1
    inp = inputs[0]
    assert inp.is_stdin
    lines, _ = read_all(inp, block_bytes=300)
    assert lines == LOG_LINES
    assert inp.compression == ("gzip" if compressed else "none")
    assert inp.lines == len(LOG_LINES)
    assert inp.size == len(stored)
    assert inp.sha256 == hashlib.sha256(stored).hexdigest()
    assert inp.content_sha256 == hashlib.sha256(LOG_TEXT.encode()).hexdigest()
