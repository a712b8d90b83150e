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


# ---------------------------------------------------------------------------- NUL blocks, binary files


def utmp_record(user: bytes, line: bytes, host: bytes, when: int) -> bytes:
    """One glibc ``struct utmp`` (384 bytes, x86-64) as in /var/log/wtmp."""
    return (
        (7).to_bytes(2, "little")  # ut_type USER_PROCESS
        + b"\x00\x00"
        + (4242).to_bytes(4, "little")  # ut_pid
        + line.ljust(32, b"\x00")
        + b"ts/0"  # ut_id
        + user.ljust(32, b"\x00")
        + host.ljust(256, b"\x00")
        + b"\x00" * 8  # ut_exit, ut_session
        + when.to_bytes(4, "little")
        + (123456).to_bytes(4, "little")  # ut_tv
        + bytes([192, 0, 2, 7])
        + b"\x00" * 12  # ut_addr_v6 rest
        + b"\x00" * 20  # __unused
    )


def lastlog_file(uid: int, when: int) -> bytes:
    """/var/log/lastlog: one 292-byte record per uid, zeros up to ``uid``."""
    rec = when.to_bytes(4, "little") + b"pts/0".ljust(32, b"\x00") + b"192.0.2.7".ljust(256, b"\x00")
    return b"\x00" * 292 * uid + rec


BINARY_FILES = {
    "wtmp": b"".join(utmp_record(b"root", b"pts/0", b"192.0.2.7", 1767225600 + 60 * i) for i in range(40)),
    "lastlog": lastlog_file(1000, 1767225600),
    "random": random.Random(7).randbytes(200_000),
    "elf": b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 40,
    "journal": b"LPKSHHRH" + random.Random(8).randbytes(4096),
}


@pytest.mark.parametrize("name", sorted(BINARY_FILES))
def test_binary_files_are_recognised(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BINARY_FILES[name])
    with pytest.raises(InputError) as err:
        expand_inputs([str(path)])  # named on the command line: an error that says why
    assert str(path) in str(err.value) and "not a text log (binary content" in str(err.value)


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_compressed_binary_is_recognised_after_decompression(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "wtmp.1"
    path.write_bytes(COMPRESSORS[compression](BINARY_FILES["wtmp"]))
    with pytest.raises(InputError, match="not a text log"):
        expand_inputs([str(path)])


def nul_block_log(block: int = 65536 + 17) -> bytes:
    """A log a crash left: zero-filled blocks (longer than a line may be) before and in the text."""
    half = len(LOG_LINES) // 2
    head = "".join(f"{line}\n" for line in LOG_LINES[:half]).encode()
    tail = "".join(f"{line}\n" for line in LOG_LINES[half:]).encode()
    return b"\x00" * block + head + b"\x00" * 4096 + tail


@pytest.mark.parametrize("block_bytes", [32, 1000, sources.BLOCK_BYTES])
def test_log_after_a_nul_block_is_read_whole(tmp_path: Path, block_bytes: int) -> None:
    data = nul_block_log()
    path = tmp_path / "mail.log"
    path.write_bytes(data)
    inp = one_input(path)  # not refused as binary
    lines, flags = read_all(inp, block_bytes=block_bytes)
    half = len(LOG_LINES) // 2
    # rows == lines: the NUL runs stay in the lines they were in, as one NUL each
    assert len(lines) == data.count(b"\n") == inp.lines
    assert lines == [
        "\x00" + LOG_LINES[0],
        *LOG_LINES[1:half],
        "\x00" + LOG_LINES[half],
        *LOG_LINES[half + 1 :],
    ]
    assert not any(f & TRUNCATED for f in flags)
    assert inp.content_sha256 == hashlib.sha256(data).hexdigest()  # the hash is of the bytes as stored
    assert inp.warnings == [
        f"{65536 + 17 - 1 + 4096 - 1:,} NUL bytes (zero-filled blocks, as a crash leaves): "
        "each run read as one NUL"
    ]


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_compressed_log_after_a_nul_block_is_read_whole(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "mail.log.2"
    path.write_bytes(COMPRESSORS[compression](b"\x00" * (3 * sources.SAMPLE_BYTES) + LOG_TEXT.encode()))
    lines, _ = read_all(one_input(path))
    assert lines == ["\x00" + LOG_LINES[0], *LOG_LINES[1:]]


def test_file_of_nothing_but_nuls_is_one_empty_log_line(tmp_path: Path) -> None:
    lines, _ = read_bytes(tmp_path, b"\x00" * 200_000)
    assert lines == ["\x00"]


def test_text_with_latin1_and_colour_codes_is_text(tmp_path: Path) -> None:
    data = (
        (LOG_TEXT + "Feb  3 11:58:00 mx postfix/cleanup[9]: warning: header Subject: Réunion\n").encode(
            "latin-1"
        )
        + b"\x1b[36mmail  | \x1b[0m"
        + LOG_LINES[0].encode()
        + b"\n"
    )
    lines, _ = read_bytes(tmp_path, data)
    assert len(lines) == len(LOG_LINES) + 2


def test_binary_reason_judges_all_samples_without_nuls() -> None:
    text = LOG_TEXT.encode()
    assert sources.binary_reason([b"\x00" * 65536, text]) is None
    assert sources.binary_reason([b"\x00" * 65536]) is None
    assert sources.binary_reason([]) is None
    assert sources.binary_reason([text, bytes(range(1, 32)) * 20]) is not None  # a binary middle
    assert sources.binary_reason([BINARY_FILES["lastlog"][-65536:]]) == "NUL-padded fields and no line break"
    # printable fields padded with NULs, even with a line break among them: a record file
    records = b"".join(
        f"user{i}".encode().ljust(32, b"\x00") + b"192.0.2.7\n".ljust(64, b"\x00") for i in range(9)
    )
    assert "record file" in str(sources.binary_reason([records]))


def test_binary_and_unreadable_files_in_a_folder_are_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "mail.log").write_text(LOG_TEXT)
    (tmp_path / "mail.log.1.gz").write_bytes(gzip.compress(LOG_TEXT.encode()))
    (tmp_path / "wtmp").write_bytes(BINARY_FILES["wtmp"])
    (tmp_path / "lastlog").write_bytes(BINARY_FILES["lastlog"])
    (tmp_path / "crash.log").write_bytes(nul_block_log())
    found = sources.gather_inputs([str(tmp_path)])
    assert names(found.inputs) == ["crash.log", "mail.log.1.gz", "mail.log"]
    skipped = {os.path.basename(s.path): s.reason for s in found.skipped}
    assert sorted(skipped) == ["lastlog", "wtmp"]
    assert skipped["wtmp"] == "is not a text log (binary content: 15% control characters)"
    # a glob skips the same way; the same file named explicitly is an error
    assert [os.path.basename(s.path) for s in sources.gather_inputs([str(tmp_path / "*")]).skipped] == [
        "lastlog",
        "wtmp",
    ]
    with pytest.raises(InputError, match="not a text log"):
        sources.gather_inputs([str(tmp_path / "mail.log"), str(tmp_path / "wtmp")])


def test_unreadable_file_in_a_folder_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mail.log").write_text(LOG_TEXT)
    secret = tmp_path / "btmp"
    secret.write_bytes(b"x")
    real_open = open

    def guarded_open(file: object, *args: object, **kw: object) -> object:
        if str(file) == str(secret):  # as for a non-root reader of /var/log/btmp
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(sources, "open", guarded_open, raising=False)
    found = sources.gather_inputs([str(tmp_path)])
    assert names(found.inputs) == ["mail.log"]
    assert [(os.path.basename(s.path), s.reason) for s in found.skipped] == [
        ("btmp", "cannot be opened: Permission denied")
    ]
    with pytest.raises(PermissionError):  # named explicitly: the CLI reports the OS error
        sources.gather_inputs([str(secret)])


def test_folder_of_nothing_but_binary_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "wtmp").write_bytes(BINARY_FILES["wtmp"])
    with pytest.raises(InputError, match=r"no text log to read: .*wtmp.*binary content"):
        sources.gather_inputs([str(tmp_path)])


def test_hold_partial_stops_lines_and_hashes_at_the_last_newline(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_bytes(b"one\n\x00\x00\x00two\nthr")
    inp = one_input(path)
    lines, _ = read_all(inp, block_bytes=5, hold_partial=True)  # type: ignore[arg-type]
    assert lines == ["one", "\x00two"]
    assert inp.lines == 2
    assert inp.content_bytes == len(b"one\n\x00\x00\x00two\n")
    assert inp.content_sha256 == hashlib.sha256(b"one\n\x00\x00\x00two\n").hexdigest()
    assert any("held back" in w for w in inp.warnings)
    path.write_bytes(b"one\n\x00\x00\x00two\nthree\n")  # completed: the held line comes next
    grown = one_input(path)
    assert sources.content_prefix_sha256(grown, inp.content_bytes) == inp.content_sha256
    assert read_all(grown, skip_lines=2, hold_partial=True)[0] == ["three"]  # type: ignore[arg-type]


def test_batches_are_bounded_by_lines_too(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    path.write_bytes(b"\n" * 1000)
    batches = list(iter_batches(one_input(path), max_lines=300))
    assert [len(b.lines) for b in batches] == [300, 300, 300, 100]
    assert [b.first_line_no for b in batches] == [1, 301, 601, 901]
