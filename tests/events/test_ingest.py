"""Ingest + store: one row per line, provenance, idempotence, atomicity, typed frames."""

from __future__ import annotations

import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.events.schema import FLAG_BITS
from maillog_forensics.events.sources import read_line
from maillog_forensics.events.store import iter_events, read_manifest
from tests.corpus import REPO, corpus_path

LINES = [
    "Nov 27 19:08:30 mail postfix/smtpd[25458]: connect from unknown[192.0.2.2]",
    "Nov 27 19:08:32 mail postfix/smtpd[25458]: warning: unknown[192.0.2.2]: "
    "SASL LOGIN authentication failed: (reason unavailable), sasl_username=test",
    "Nov 27 19:08:32 mail postfix/smtpd[25458]: disconnect from unknown[192.0.2.2] "
    "ehlo=1 auth=0/1 commands=1/2",
    "not a log line at all",
]


def write(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    os.utime(path, (1795800000, 1795800000))  # 2026-11-27: anchors the year
    return path


def test_every_line_is_one_row_with_provenance(tmp_path: Path) -> None:
    log = write(tmp_path / "mail.log", LINES)
    stats = mf.ingest([str(log)], tmp_path / "ds", tz="UTC")
    assert stats.lines == stats.rows_written == 4
    df = mf.load_events(tmp_path / "ds")
    assert list(df["line_no"]) == [1, 2, 3, 4]
    assert set(df["source_file"]) == {str(log)}
    assert list(df["kind"]) == ["connect", "sasl_failed", "disconnect", "unparsed"]
    assert df.loc[3, "message"] == "not a log line at all"
    assert str(df.loc[0, "ts"]) == "2026-11-27 19:08:30+00:00"
    manifest = read_manifest(tmp_path / "ds")
    (entry,) = manifest["inputs"]
    import hashlib

    assert entry["sha256"] == hashlib.sha256(log.read_bytes()).hexdigest()
    assert (entry["lines"], entry["tz"], entry["start_year"], entry["source"]) == (4, "UTC", 2026, "mtime")
    assert manifest["kind_counts"]["unparsed"] == 1


def test_a_log_whose_lines_carry_year_and_offset_is_recorded_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from maillog_forensics.cli import main

    log = write(
        tmp_path / "mail.log",
        [
            "2023-03-14T19:32:52.625374+01:00 helga postfix/smtpd[1]: connect from unknown[192.0.2.1]",
            "2023-03-14T19:32:53.000000+01:00 helga postfix/smtpd[1]: disconnect from unknown[192.0.2.1]",
        ],
    )
    mf.ingest([str(log)], tmp_path / "ds", tz="UTC")  # the file's mtime is in 2026
    (entry,) = read_manifest(tmp_path / "ds")["inputs"]
    # the year and the offset are the lines' own, not the file time's nor the --tz default
    assert (entry["source"], entry["start_year"], entry["line_offsets"]) == ("lines", 2023, ["+01:00"])
    assert main(["summary", str(tmp_path / "ds")]) == 0
    out = capsys.readouterr().out
    assert "tz from the lines (+01:00)  year from the lines (2023)" in out and "2026" not in out


def test_load_events_dtypes_and_filters(tmp_path: Path) -> None:
    mf.ingest([str(write(tmp_path / "mail.log", LINES))], tmp_path / "ds", tz="UTC")
    df = mf.load_events(tmp_path / "ds")
    assert str(df["ts"].dtype) == "datetime64[us, UTC]"
    assert isinstance(df["kind"].dtype, pd.CategoricalDtype)
    assert isinstance(df["program"].dtype, pd.CategoricalDtype)
    assert str(df["pid"].dtype) == "Int32" and str(df["auth_total"].dtype) == "Int32"
    assert df.loc[2, "auth_ok"] == 0 and df.loc[2, "auth_total"] == 1 and df.loc[2, "ehlo_total"] == 1
    part = mf.load_events(tmp_path / "ds", start="2026-11-27 19:08:31", columns=["ts", "kind"])
    assert list(part.columns) == ["ts", "kind"] and list(part["kind"]) == ["sasl_failed", "disconnect"]
    only = mf.load_events(tmp_path / "ds", kinds=["connect"])
    assert list(only["client_ip"]) == ["192.0.2.2"]


def test_reingest_adds_nothing_and_growth_adds_only_new_lines(tmp_path: Path) -> None:
    log = write(tmp_path / "mail.log", LINES[:2])
    ds = tmp_path / "ds"
    mf.ingest([str(log)], ds, tz="UTC")
    again = mf.ingest([str(log)], ds, tz="UTC")
    assert again.rows_written == 0 and len(mf.load_events(ds)) == 2
    write(log, LINES)  # the file grew
    grown = mf.ingest([str(log)], ds, tz="UTC")
    assert grown.rows_written == 2
    df = mf.load_events(ds)
    assert list(df["line_no"]) == [1, 2, 3, 4]
    assert len(read_manifest(ds)["inputs"]) == 1


def test_rotated_and_gzipped_copy_is_recognised(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    mf.ingest([str(write(tmp_path / "mail.log", LINES[:3]))], ds, tz="UTC")
    # logrotate: yesterday's mail.log is now mail.log.1.gz (with one more line), a new mail.log starts
    rot = tmp_path / "rot"
    rot.mkdir()
    write(rot / "mail.log.1.gz", LINES, gz=True)
    write(rot / "mail.log", ["Nov 28 00:00:01 mail postfix/smtpd[1]: connect from unknown[192.0.2.9]"])
    stats = mf.ingest([str(rot)], ds, tz="UTC")
    assert [f["new_lines"] for f in stats.files] == [1, 1]
    assert [Path(f["path"]).name for f in stats.files] == ["mail.log.1.gz", "mail.log"]
    assert len(mf.load_events(ds)) == 5


NEW_DAY = [
    "Nov 28 00:00:01 mail postfix/smtpd[7]: connect from unknown[192.0.2.9]",
    "Nov 28 00:00:02 mail postfix/smtpd[7]: disconnect from unknown[192.0.2.9] commands=0/0",
]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_log_rotated_between_runs_keeps_one_name_per_file(tmp_path: Path, threads: int) -> None:
    # the nightly run: yesterday's mail.log was ingested, then logrotate moved it to
    # mail.log.1 (after one more line) and a new mail.log started at line 1
    ds = tmp_path / "ds"
    log = tmp_path / "mail.log"
    write(log, LINES[:3])
    mf.ingest([str(log)], ds, tz="UTC", threads=threads)
    log.rename(tmp_path / "mail.log.1")
    write(tmp_path / "mail.log.1", LINES)
    write(log, NEW_DAY[:1])
    stats = mf.ingest([str(log)], ds, tz="UTC", threads=threads)
    assert "named" in stats.files[0]["note"] and f"{log}#2" in stats.files[0]["note"]
    write(log, NEW_DAY)  # the next night: the new file grew, and the rotated one is read too
    mf.ingest([str(tmp_path / "mail.log.1"), str(log)], ds, tz="UTC", threads=threads)

    df = mf.load_events(ds, columns=["source_file", "line_no", "message"])
    assert not df.duplicated(["source_file", "line_no"]).any()
    got = list(zip(df["source_file"], df["line_no"], strict=True))
    # rows in log order: the old file (its first read, then its last line), then the new one
    assert got == [
        (str(log), 1),
        (str(log), 2),
        (str(log), 3),
        (str(tmp_path / "mail.log.1"), 4),
        (f"{log}#2", 1),
        (f"{log}#2", 2),
    ]
    inputs = read_manifest(ds)["inputs"]
    assert [i["source_files"] for i in inputs] == [[str(log), str(tmp_path / "mail.log.1")], [f"{log}#2"]]
    assert [i["path"] for i in inputs] == [str(tmp_path / "mail.log.1"), str(log)]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_file_named_like_a_second_name_gets_one_of_its_own_in_one_run(tmp_path: Path, threads: int) -> None:
    # the pipelined reader names files before the manifest lists the run's earlier ones
    ds, logs = tmp_path / "ds", tmp_path / "logs"
    logs.mkdir()
    write(logs / "mail.log", LINES[:2])
    mf.ingest([str(logs / "mail.log")], ds, tz="UTC", threads=threads)
    (logs / "mail.log").rename(logs / "mail.log.1")
    write(logs / "mail.log", NEW_DAY[:1])
    write(logs / "mail.log#2", NEW_DAY[1:])
    paths = [str(logs / n) for n in ("mail.log.1", "mail.log", "mail.log#2")]
    mf.ingest(paths, ds, tz="UTC", threads=threads)
    df = mf.load_events(ds, columns=["source_file", "line_no"])
    assert not df.duplicated(["source_file", "line_no"]).any()
    # the first mail.log, the new one (#2), and the file literally named mail.log#2 (#2#2)
    assert set(df["source_file"]) == {paths[1], f"{paths[1]}#2", f"{paths[2]}#2"}
    from maillog_forensics.report import Case

    assert len(Case(str(ds)).sessions) >= 1


def test_an_empty_read_takes_no_name(tmp_path: Path) -> None:
    # copytruncate, then an ingest before the first new line: the next lines are #2, not #3
    ds, log = tmp_path / "ds", tmp_path / "mail.log"
    write(log, LINES[:2])
    mf.ingest([str(log)], ds, tz="UTC")
    log.write_text("")
    mf.ingest([str(log)], ds, tz="UTC")
    write(log, NEW_DAY)
    mf.ingest([str(log)], ds, tz="UTC")
    df = mf.load_events(ds, columns=["source_file", "line_no"])
    assert list(zip(df["source_file"], df["line_no"], strict=True)) == [
        (str(log), 1),
        (str(log), 2),
        (f"{log}#2", 1),
        (f"{log}#2", 2),
    ]


def test_one_file_read_under_two_spellings_keeps_its_line_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds, logs = tmp_path / "ds", tmp_path / "logs"
    logs.mkdir()
    monkeypatch.chdir(tmp_path)
    lines = [
        f"Nov 27 19:{m:02d}:00 mail postfix/smtpd[{m}]: connect from unknown[192.0.2.{m}]" for m in range(6)
    ]
    for n, spelling in ((2, "logs/mail.log"), (4, str(logs / "mail.log")), (6, "logs/mail.log")):
        write(logs / "mail.log", lines[:n])
        mf.ingest([spelling], ds, tz="UTC")
    df = mf.load_events(ds, columns=["ts", "source_file", "line_no"])
    assert list(df["line_no"]) == [1, 2, 3, 4, 5, 6] and df["ts"].is_monotonic_increasing
    pieces = list(iter_events(ds, columns=["line_no"], chunk_lines=2))
    assert [list(p["line_no"]) for p in pieces] == [[1, 2], [3, 4], [5, 6]]


def test_standard_input_read_twice_gets_two_names(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    for text in (LINES[0], NEW_DAY[0]):
        res = run_cli("ingest", "-", "-o", str(ds), "--tz", "UTC", stdin=(text + "\n").encode())
        assert res.returncode == 0, res.stderr
    df = mf.load_events(ds)
    assert list(zip(df["source_file"], df["line_no"], strict=True)) == [("-", 1), ("-#2", 1)]


def test_year_rolls_over_inside_a_file(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(
        "Dec 31 23:59:59 mail postfix/smtpd[1]: connect from unknown[192.0.2.1]\n"
        "Jan  1 00:00:01 mail postfix/smtpd[1]: disconnect from unknown[192.0.2.1] commands=0/0\n"
    )
    os.utime(log, (1767225700, 1767225700))  # 2026-01-01 00:01:40 UTC
    mf.ingest([str(log)], tmp_path / "ds", tz="UTC")
    df = mf.load_events(tmp_path / "ds")
    assert [str(t) for t in df["ts"]] == ["2025-12-31 23:59:59+00:00", "2026-01-01 00:00:01+00:00"]
    assert read_manifest(tmp_path / "ds")["inputs"][0]["start_year"] == 2025


def test_explicit_year_and_zone(tmp_path: Path) -> None:
    mf.ingest([str(write(tmp_path / "mail.log", LINES[:1]))], tmp_path / "ds", year=2019, tz="Europe/Berlin")
    df = mf.load_events(tmp_path / "ds")
    assert str(df.loc[0, "ts"]) == "2019-11-27 18:08:30+00:00"
    assert read_manifest(tmp_path / "ds")["inputs"][0]["source"] == "--year"


def test_credentials_are_kept_out_of_events(tmp_path: Path) -> None:
    log = tmp_path / "seed.log"
    log.write_bytes(corpus_path("seed", "mail.log").read_bytes())
    ds = tmp_path / "ds"
    stats = mf.ingest([str(log)], ds, tz="UTC")
    assert stats.secrets_redacted == 1
    for f in (ds / "events").rglob("*.parquet"):
        assert b"AGFkbWluQGZpcGljay5jb20Ad2lsb" not in f.read_bytes()
    df = mf.load_events(ds)
    assert not df["message"].str.contains("AGFkbWlu").any()
    secrets = list((ds / "secrets").rglob("*.parquet"))
    assert secrets and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets)


def test_host_filter(tmp_path: Path) -> None:
    log = write(
        tmp_path / "mail.log",
        [*LINES[:2], "Nov 27 19:08:33 other postfix/smtpd[9]: connect from x[192.0.2.3]"],
    )
    stats = mf.ingest([str(log)], tmp_path / "ds", tz="UTC", host_filter=["mail"])
    assert stats.filtered == 1 and len(mf.load_events(tmp_path / "ds")) == 2


def test_killed_ingest_leaves_previous_dataset_intact(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    mf.ingest([str(write(tmp_path / "small.log", LINES))], ds, tz="UTC")
    before = mf.load_events(ds)
    big = tmp_path / "big.log"
    with open(big, "w") as fh:
        for i in range(400_000):
            fh.write(
                f"Nov 27 19:{i // 60 % 60:02d}:{i % 60:02d} mail postfix/smtpd[{i}]: "
                "connect from x[192.0.2.1]\n"
            )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "maillog_forensics.cli",
            "ingest",
            str(big),
            "-o",
            str(ds),
            "--tz",
            "UTC",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(ds.glob(".staging-*/events/*/*.parquet")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = mf.load_events(ds)
    pd.testing.assert_frame_equal(before, after)
    # the next run cleans up and works
    mf.ingest([str(write(tmp_path / "third.log", LINES[:1]))], ds, tz="UTC")
    assert not list(ds.glob(".staging-*"))
    assert len(mf.load_events(ds)) == len(before) + 1


# --- command line ----------------------------------------------------------------------


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maillog_forensics.cli", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("sub", [[], ["ingest"], ["export"], ["summary"]])
def test_help(sub: list[str]) -> None:
    res = run_cli(*sub, "--help")
    assert res.returncode == 0 and "usage: maillog-forensics" in res.stdout


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda d: str(d / "missing.log"), "no such file"),
        (lambda d: (d / "empty").mkdir() or str(d / "empty"), "holds no log files"),
        (lambda d: (d / "x.bin").write_bytes(bytes(range(256)) * 64) and str(d / "x.bin"), "not a text log"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, make_input, message: str) -> None:  # type: ignore[no-untyped-def]
    res = run_cli("ingest", make_input(tmp_path), "-o", str(tmp_path / "ds"))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr and "Traceback" not in res.stderr


def test_unwritable_output_is_one_clear_line(tmp_path: Path) -> None:
    log = write(tmp_path / "mail.log", LINES)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run_cli("ingest", str(log), "-o", str(blocker / "ds"))
    assert res.returncode == 2 and res.stderr.startswith("maillog-forensics: error: cannot write")


def test_stdin_and_export_csv_neutralises_formulas(tmp_path: Path) -> None:
    evil = (
        "Nov 27 19:08:30 mail postfix/smtpd[1]: warning: unknown[192.0.2.2]: "
        'SASL LOGIN authentication failed: x, sasl_username==HYPERLINK("http://example.com")'
    )
    res = run_cli("ingest", "-", "-o", str(tmp_path / "ds"), "--tz", "UTC", stdin=(evil + "\n").encode())
    assert res.returncode == 0, res.stderr
    out = run_cli("export", "events", str(tmp_path / "ds"), "--format", "csv")
    assert out.returncode == 0
    assert "'=HYPERLINK" in out.stdout and ",=HYPERLINK" not in out.stdout
    js = run_cli("export", "events", str(tmp_path / "ds"), "--format", "jsonl")
    (rec,) = [json.loads(line) for line in js.stdout.splitlines()]
    assert rec["sasl_username"] == '=HYPERLINK("http://example.com")' and rec["source_file"] == "-"


def test_summary_strips_terminal_control_characters(tmp_path: Path) -> None:
    log = write(tmp_path / "mail.log", ["\x1b[31mred\x1b[0m not a log line"])
    res = run_cli("ingest", str(log), "-o", str(tmp_path / "ds"), "--tz", "UTC")
    assert res.returncode == 0 and "\x1b" not in res.stdout and "?[31mred" in res.stdout


def test_real_lab_log_end_to_end(tmp_path: Path) -> None:
    log = corpus_path("postfix-lab", "mail.syslog-rfc3339.log")
    stats = mf.ingest([str(log)], tmp_path / "ds")
    df = mf.load_events(tmp_path / "ds")
    assert len(df) == stats.lines == len(log.read_bytes().splitlines())
    assert df["ts"].notna().all() and df["ts"].min() >= pd.Timestamp("2026-11-27", tz="UTC")
    assert (df["kind"] == "unparsed").mean() < 0.05


# --- properties and year correction ------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from maillog_forensics.events.parse import TimeContext, parse_lines  # noqa: E402
from maillog_forensics.events.sources import expand_inputs, iter_batches  # noqa: E402

LOGLIKE = st.sampled_from(
    [b"Nov 27 19:08:30 mail postfix/smtpd[1]: ", b"\xff\xfe", b"\x00", b"\r", b"\n", b"\r\n"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=40), LOGLIKE), max_size=30))
def test_arbitrary_bytes_never_crash_and_rows_equal_lines(tmp_path: Path, chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    if not data or (data.count(b"\n") == 0 and not data.strip(b"\n")):
        return
    log = tmp_path / "fuzz.log"
    log.write_bytes(data)
    expected = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    try:
        (inp,) = expand_inputs([str(log)])
    except Exception as exc:  # only the "binary content" refusal is allowed
        assert "not a text log" in str(exc)
        return
    rows = 0
    ctx = TimeContext("UTC", 2026)
    for batch in iter_batches(inp, block_bytes=32, max_line_bytes=64):
        frame = parse_lines(
            batch.lines, source_file="f", first_line_no=batch.first_line_no, ctx=ctx, flags=batch.flags
        ).frame
        assert frame.get_column("line_no").to_list() == list(
            range(batch.first_line_no, batch.first_line_no + frame.height)
        )
        rows += frame.height
    assert rows == inp.lines
    if inp.compression == "none":
        assert rows == expected


B52 = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"


def long_queue_id(when: datetime, inode: int = 12345) -> str:
    """Encode a Postfix long queue id (enable_long_queue_ids) for an enqueue time."""

    def enc(n: int, base: int, width: int = 0) -> str:
        out = ""
        while n:
            n, r = divmod(n, base)
            out = B52[r] + out
        return out.rjust(width, "0")

    secs = int(when.timestamp())
    return enc(secs, 52) + enc(when.microsecond, 52, 4) + "z" + enc(inode, 51)


def test_long_queue_ids_correct_a_wrong_mtime_year(tmp_path: Path) -> None:
    qid = long_queue_id(datetime(2024, 3, 11, 22, 27, 54, 828953, tzinfo=UTC))
    log = tmp_path / "mail.log"
    log.write_text(
        f"Mar 11 22:27:54 mail postfix/smtpd[1]: {qid}: client=unknown[192.0.2.1]\n"
        f"Mar 11 22:27:55 mail postfix/qmgr[2]: {qid}: removed\n"
    )
    os.utime(log, (1795800000, 1795800000))  # copied in 2026: the mtime says 2026
    mf.ingest([str(log)], tmp_path / "ds", tz="UTC")
    df = mf.load_events(tmp_path / "ds")
    assert [t.year for t in df["ts"]] == [2024, 2024]
    entry = read_manifest(tmp_path / "ds")["inputs"][0]
    assert entry["source"] == "long queue ids" and entry["queue_id_check"]["correction"] == -2


def test_truncated_gzip_ingests_what_it_holds(tmp_path: Path) -> None:
    full = gzip.compress(("\n".join(LINES * 200) + "\n").encode())
    cut = tmp_path / "mail.log.2.gz"
    cut.write_bytes(full[: len(full) // 2])
    stats = mf.ingest([str(cut)], tmp_path / "ds", tz="UTC", year=2026)
    assert 0 < stats.rows_written < 800
    entry = read_manifest(tmp_path / "ds")["inputs"][0]
    assert entry["warnings"] and "ends early" in entry["warnings"][0]
    assert "ends early" in stats.summary()


def test_parse_threads_give_the_sequential_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # many small batches, a log across New Year with the year inferred from the file's mtime
    import os
    import subprocess
    import sys

    from maillog_forensics.events import sources
    from maillog_forensics.events.store import load_secrets, read_manifest
    from tests.corpus import REPO

    defaults = dict(sources.iter_batches.__kwdefaults__ or {})
    monkeypatch.setattr(sources.iter_batches, "__kwdefaults__", {**defaults, "block_bytes": 64 << 10})
    log = tmp_path / "mail.log"
    gen = [sys.executable, str(REPO / "scripts" / "gen_benchlog.py"), "--lines", "20000", "--seed", "2"]
    subprocess.run([*gen, "--start", "2025-12-31T23:40:00", "-o", str(log)], check=True)
    os.utime(log, (1767398400, 1767398400))  # 2026-01-03
    seq, par = tmp_path / "seq", tmp_path / "par"
    a = mf.ingest([str(log)], seq, tz="UTC", threads=1)
    b = mf.ingest([str(log)], par, tz="UTC", threads=3)
    assert (a.lines, a.rows_written, a.kinds) == (b.lines, b.rows_written, b.kinds)
    pd.testing.assert_frame_equal(mf.load_events(seq), mf.load_events(par))
    pd.testing.assert_frame_equal(load_secrets(seq), load_secrets(par))
    years = mf.load_events(par)["ts"].dt.year.value_counts()
    assert set(years.index) == {2025, 2026}
    ma, mb = read_manifest(seq), read_manifest(par)
    assert ma["inputs"] == mb["inputs"]  # same year inference recorded (mtime, roll-over)


def test_a_failing_parse_thread_leaves_no_staged_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one batch fails while others are still being parsed (and write their parts and
    # secrets): the run must wait for them before removing its staging folder
    import threading
    import time

    from maillog_forensics.events import pipeline, sources

    defaults = dict(sources.iter_batches.__kwdefaults__ or {})
    monkeypatch.setattr(sources.iter_batches, "__kwdefaults__", {**defaults, "block_bytes": 16 << 10})
    real = pipeline.parse_chunk

    def flaky(batch: Any, **kw: Any) -> Any:
        if kw["seq"] == 0:
            time.sleep(0.1)
            raise RuntimeError("parse failed")
        time.sleep(0.5)  # still running when batch 0 fails
        return real(batch, **kw)

    monkeypatch.setattr(pipeline, "parse_chunk", flaky)
    ds = tmp_path / "ds"
    with pytest.raises(RuntimeError, match="parse failed"):
        mf.ingest([str(REPO / "data" / "sample" / "mail.log")], ds, tz="UTC", year=2026, threads=3)
    # the lock file stays (removing it would race with the next writer), unlocked
    assert [p.name for p in ds.rglob("*") if p.is_file() or p.name.startswith(".staging")] == [".lock"]
    assert not [t for t in threading.enumerate() if t.name.startswith("parse")]
    mf.store.DatasetWriter(ds).abort()


# --- inputs as found in the wild: /var/log with binary files, crash blocks, containers -------

WTMP_LIKE = b"".join(
    (7).to_bytes(4, "little")
    + b"pts/0".ljust(32, b"\x00")
    + b"root".ljust(32, b"\x00")
    + bytes([1, 2, 3, 200]) * 8
    for _ in range(50)
)


@pytest.mark.parametrize("threads", [1, 2])
def test_folder_with_binary_files_ingests_the_rest_and_says_what_it_skipped(
    tmp_path: Path, threads: int
) -> None:
    logs = tmp_path / "var-log"
    logs.mkdir()
    write(logs / "mail.log", LINES)
    (logs / "wtmp").write_bytes(WTMP_LIKE)
    (logs / "lastlog").write_bytes(b"\x00" * 292_000 + b"\x10\x20\x30\x65pts/0" + b"\x00" * 27 + b"192.0.2.7")
    stats = mf.ingest([str(logs)], tmp_path / "ds", tz="UTC", threads=threads)
    assert stats.rows_written == len(LINES)
    assert [f["path"] for f in stats.files] == [str(logs / "mail.log")]
    summary = stats.summary()
    for name in ("wtmp", "lastlog"):
        assert f"{logs / name}: not read: is not a text log (binary content" in summary
    assert "skipped 2 files that are no text log" in summary
    manifest = read_manifest(tmp_path / "ds")
    skipped = {s["path"]: s["reason"] for s in manifest["skipped_inputs"]}
    assert sorted(skipped) == [str(logs / "lastlog"), str(logs / "wtmp")]
    assert all(r.startswith("is not a text log (binary content") for r in skipped.values())
    assert manifest["runs"][-1]["skipped"] == manifest["skipped_inputs"]
    assert [e["path"] for e in manifest["inputs"]] == [str(logs / "mail.log")]
    # a later run that reads other files keeps the list; one that reads the file drops it
    other = write(tmp_path / "other.log", LINES[:1])
    mf.ingest([str(other)], tmp_path / "ds", tz="UTC", threads=threads)
    assert read_manifest(tmp_path / "ds")["skipped_inputs"] == manifest["skipped_inputs"]
    (logs / "wtmp").write_bytes(b"\n".join(line.encode() for line in LINES) + b"\n")
    mf.ingest([str(logs)], tmp_path / "ds", tz="UTC", threads=threads)
    assert [s["path"] for s in read_manifest(tmp_path / "ds")["skipped_inputs"]] == [str(logs / "lastlog")]


def test_binary_file_named_on_the_command_line_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "wtmp").write_bytes(WTMP_LIKE)
    log = write(tmp_path / "mail.log", LINES)
    res = run_cli("ingest", str(log), str(tmp_path / "wtmp"), "-o", str(tmp_path / "ds"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and f"{str(tmp_path / 'wtmp')!r} is not a text log" in res.stderr
    res = run_cli("ingest", str(tmp_path), "-o", str(tmp_path / "ds"))  # the folder: skipped, the rest read
    assert res.returncode == 0 and "not read: is not a text log" in res.stdout + res.stderr


@pytest.mark.parametrize("threads", [1, 2])
def test_log_behind_nul_blocks_is_ingested_line_for_line(tmp_path: Path, threads: int) -> None:
    text = [line.encode() + b"\n" for line in LINES[:3]]
    data = (
        b"\x00" * (1 << 20) + text[0] + b"\x00" * 70_000 + text[1] + text[2]
    )  # 1 MiB, then 70 kB: no line cut
    log = tmp_path / "mail.log"
    log.write_bytes(data)
    os.utime(log, (1795800000, 1795800000))
    stats = mf.ingest([str(log)], tmp_path / "ds", tz="UTC", threads=threads)
    assert stats.lines == stats.rows_written == data.count(b"\n") == 3
    df = mf.load_events(tmp_path / "ds")
    assert list(df["kind"]) == ["connect", "sasl_failed", "disconnect"]
    assert list(df["host"]) == ["mail"] * 3 and str(df.loc[0, "ts"]) == "2026-11-27 19:08:30+00:00"
    assert [bool(f & FLAG_BITS["nul"]) for f in df["flags"]] == [True, True, False]
    assert "NUL bytes (zero-filled blocks" in stats.summary()


def test_container_and_multilog_logs_end_to_end(tmp_path: Path) -> None:
    compose = tmp_path / "compose.log"
    compose.write_text(
        "\x1b[36mmailserver-1  | \x1b[0m2026-11-27T19:08:30.123456789Z " + LINES[0] + "\n"
        "\x1b[36mmailserver-1  | \x1b[0m2026-11-27T19:08:32.000000001Z " + LINES[1] + "\n"
        "\x1b[36mmailserver-1  | \x1b[0mStarting supervisord\n"
    )
    multilog = tmp_path / "current"
    # @4000000069289d58 = 2^62 + 10 + 1764269390 (2025-11-27 18:49:50 UTC)
    multilog.write_text("@4000000069289d5800000000 postfix/smtpd[7]: connect from unknown[192.0.2.9]\n")
    mf.ingest([str(compose), str(multilog)], tmp_path / "ds", tz="UTC", year=2026)
    df = mf.load_events(tmp_path / "ds")
    assert list(df["kind"]) == ["connect", "sasl_failed", "unparsed", "connect"]
    assert [str(t) for t in df["ts"][:2]] == ["2026-11-27 19:08:30+00:00", "2026-11-27 19:08:32+00:00"]
    assert str(df.loc[3, "ts"]) == "2025-11-27 18:49:50+00:00" and df.loc[3, "client_ip"] == "192.0.2.9"
    assert df.loc[2, "message"] == "\x1b[36mmailserver-1  | \x1b[0mStarting supervisord"  # kept as written
    assert read_line(str(compose), 1) == compose.read_text().splitlines()[0]


def test_half_written_last_line_is_held_back_then_stored_whole(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    ds = tmp_path / "ds"
    full = LINES[1]
    log.write_text(LINES[0] + "\n" + full[:40])  # the writer is in the middle of line 2
    stats = mf.ingest([str(log)], ds, tz="UTC", year=2026)
    assert stats.lines == 1
    assert "held back" in stats.files[0]["note"]
    assert list(mf.load_events(ds)["message"].str.len() > 0) == [True]
    with open(log, "a") as fh:  # the writer finishes the line, and one more
        fh.write(full[40:] + "\n" + LINES[2] + "\n")
    stats = mf.ingest([str(log)], ds, tz="UTC", year=2026)
    assert stats.files[0]["new_lines"] == 2 and "held back" not in stats.files[0]["note"]
    df = mf.load_events(ds)
    assert list(df["line_no"]) == [1, 2, 3]
    assert list(df["kind"]) == ["connect", "sasl_failed", "disconnect"]
    assert df.loc[1, "sasl_username"] == "test"  # the whole line, not its first 40 characters
    assert len(read_manifest(ds)["inputs"]) == 1


def test_a_file_that_is_only_a_half_written_line_is_read_once_complete(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    ds = tmp_path / "ds"
    log.write_text(LINES[0][:20])
    assert mf.ingest([str(log)], ds, tz="UTC", year=2026).lines == 0
    log.write_text(LINES[0] + "\n")
    assert mf.ingest([str(log)], ds, tz="UTC", year=2026).lines == 1
    assert list(mf.load_events(ds)["kind"]) == ["connect"]
    (entry,) = read_manifest(ds)["inputs"]
    assert entry["source_file"] == str(log) and entry["lines"] == 1


@pytest.mark.parametrize("threads", [1, 2])
def test_compressed_last_line_without_newline_still_counts(tmp_path: Path, threads: int) -> None:
    log = tmp_path / "mail.log.1.gz"
    log.write_bytes(gzip.compress(("\n".join(LINES[:3])).encode()))  # rotated: it has ended
    assert mf.ingest([str(log)], tmp_path / "ds", tz="UTC", year=2026, threads=threads).lines == 3


@pytest.mark.parametrize("ext", ["gz", "bz2", "xz", "zst"])
def test_every_compression_ingests_from_the_command_line(tmp_path: Path, ext: str) -> None:
    import bz2
    import lzma

    import zstandard

    compress = {
        "gz": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
        "zst": zstandard.ZstdCompressor().compress,
    }[ext]
    text = ("\n".join(LINES) + "\n").encode()
    log = tmp_path / f"mail.log.1.{ext}"
    log.write_bytes(compress(text[:100]) + compress(text[100:]))  # two frames / members
    res = run_cli("ingest", str(log), "-o", str(tmp_path / "ds"), "--tz", "UTC", "--year", "2026")
    assert res.returncode == 0, res.stderr
    assert f"{log}: 4 new lines" in res.stdout
    assert list(mf.load_events(tmp_path / "ds")["kind"]) == [
        "connect",
        "sasl_failed",
        "disconnect",
        "unparsed",
    ]
    again = run_cli("ingest", str(log), "-o", str(tmp_path / "ds"), "--tz", "UTC", "--year", "2026")
    assert "0 new lines (already in the dataset)" in again.stdout
