"""One writer at a time: the dataset lock, and two real ingest processes on one dataset."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import maillog_forensics as mf
from maillog_forensics.events.lock import DatasetBusyError, DatasetLock
from maillog_forensics.events.store import DatasetWriter, read_manifest


def big_log(path: Path, lines: int, *, host: str) -> Path:
    with open(path, "w") as fh:
        for i in range(lines):
            fh.write(
                f"Nov 27 19:{i // 60 % 60:02d}:{i % 60:02d} {host} postfix/smtpd[{i}]: "
                f"connect from x[192.0.2.{i % 250}]\n"
            )
    return path


def generic_rows(dataset: Path) -> int:
    """Rows a generic Parquet reader finds under ``events/`` (no manifest involved)."""
    return int(pq.read_table(dataset / "events").num_rows)


def tool_rows(dataset: Path) -> int:
    return len(mf.load_events(dataset, columns=["line_no"]))


#: runs the command line once a go-file exists: imports done, it starts within milliseconds
_AT_SIGNAL = """
import os, sys, time
from maillog_forensics.cli import main
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.005)
sys.exit(main(sys.argv[2:]))
"""


def start_ingest(log: Path, dataset: Path, *extra: str, go: Path | None = None) -> subprocess.Popen[str]:
    """An ingest process; with ``go``, it starts reading when that file appears."""
    head = (
        [sys.executable, "-c", _AT_SIGNAL, str(go)] if go else [sys.executable, "-m", "maillog_forensics.cli"]
    )
    return subprocess.Popen(
        [*head, "ingest", str(log), "-o", str(dataset), "--tz", "UTC", "--year", "2026", "-q", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_staged_part(dataset: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if list(dataset.glob(".staging-*/events/*/*.parquet")):
            return
        time.sleep(0.01)
    pytest.fail("the first ingest never staged a part file while running")


def test_second_lock_fails_at_once_and_names_the_holder(tmp_path: Path) -> None:
    first = DatasetLock(tmp_path)
    first.acquire()
    second = DatasetLock(tmp_path)
    with pytest.raises(
        DatasetBusyError, match=r"another ingest is writing to .*\(process \d+, since .*--wait"
    ):
        second.acquire()
    assert not second.held
    first.release()
    second.acquire()  # free again
    assert second.held
    second.release()


def test_writer_holds_the_lock_until_commit_or_abort(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path / "ds")
    with pytest.raises(DatasetBusyError):
        DatasetWriter(tmp_path / "ds")
    writer.abort()
    again = DatasetWriter(tmp_path / "ds")
    again.commit(again.manifest)
    DatasetWriter(tmp_path / "ds").abort()  # released by commit too


def test_two_concurrent_ingests_second_one_is_refused(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    a = big_log(tmp_path / "a.log", 300_000, host="a")
    b = big_log(tmp_path / "b.log", 1_000, host="b")
    go = tmp_path / "go"
    second = start_ingest(b, ds, go=go)
    first = start_ingest(a, ds)
    wait_for_staged_part(ds, first)
    go.touch()
    _, err = second.communicate(timeout=120)
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 2
    assert err.startswith("maillog-forensics: error: another ingest is writing to")
    assert "--wait" in err and err.count("\n") == 1
    # only the run that succeeded is in the dataset, by any reader
    assert generic_rows(ds) == tool_rows(ds) == 300_000
    assert [i["path"] for i in read_manifest(ds)["inputs"]] == [str(a)]
    assert not list(ds.glob(".staging-*")) and not list(ds.glob(".manifest-*"))


def test_two_concurrent_ingests_with_wait_both_land(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    a = big_log(tmp_path / "a.log", 300_000, host="a")
    b = big_log(tmp_path / "b.log", 20_000, host="b")
    go = tmp_path / "go"
    second = start_ingest(b, ds, "--wait", go=go)
    first = start_ingest(a, ds)
    wait_for_staged_part(ds, first)
    go.touch()
    _, err = second.communicate(timeout=300)
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, err
    assert generic_rows(ds) == tool_rows(ds) == 320_000
    manifest = read_manifest(ds)
    assert [i["path"] for i in manifest["inputs"]] == [str(a), str(b)]
    assert len(manifest["runs"]) == 2
