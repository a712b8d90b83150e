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


def big_log(path: Path, lines: int, *, host: str, noise: bool = False) -> Path:
    """A log of ``lines`` connect lines (``noise``: each with 16 random bytes, so that its
    Parquet parts do not compress to nothing)."""
    import os

    with open(path, "w") as fh:
        for i in range(lines):
            name = os.urandom(16).hex() if noise else "x"
            fh.write(
                f"Nov 27 19:{i // 60 % 60:02d}:{i % 60:02d} {host} postfix/smtpd[{i}]: "
                f"connect from {name}[192.0.2.{i % 250}]\n"
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


#: inside a private mount namespace: a 2 MiB tmpfs; a small ingest fits, a big one runs out
#: of space while staging; prints what the tool and a generic reader count afterwards
_FULL_DISK = """
import json, os, subprocess, sys
import pyarrow.parquet as pq
import maillog_forensics as mf
mnt, small, big, fake = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "fake"
if not fake:
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], check=True)
ds = os.path.join(mnt, "ds")
cli = [sys.executable, "-m", "maillog_forensics.cli", "ingest", "-o", ds]
cli += ["--tz", "UTC", "--year", "2026", "-q"]
first = subprocess.run([*cli, small], capture_output=True, text=True)
if fake:  # no root: the writer fails as a full disk does
    second = subprocess.run([sys.executable, "-c", FAKE, ds, big], capture_output=True, text=True)
else:
    second = subprocess.run([*cli, big], capture_output=True, text=True)
third = subprocess.run([*cli, small + ".more"], capture_output=True, text=True)
print(json.dumps({
    "codes": [first.returncode, second.returncode, third.returncode],
    "stderr": second.stderr,
    "tool": len(mf.load_events(ds, columns=["line_no"])),
    "generic": pq.read_table(os.path.join(ds, "events")).num_rows,
    "leftovers": sorted(n for n in os.listdir(ds) if n.startswith((".staging-", ".manifest-"))),
}))
"""

_FAKE = """
import errno, sys
from maillog_forensics.cli import main
from maillog_forensics.events import store
real, written = store.pq.write_table, [0]
def write_table(table, where, **kw):
    written[0] += 1
    if written[0] > 2:
        raise OSError(errno.ENOSPC, "No space left on device")
    real(table, where, **kw)
store.pq.write_table = write_table
args = ["ingest", sys.argv[2], "-o", sys.argv[1], "--tz", "UTC", "--year", "2026", "-q", "--threads", "1"]
sys.exit(main(args))
"""


def test_a_full_disk_while_staging_leaves_the_dataset_as_it_was(tmp_path: Path) -> None:
    import json
    import os
    import shutil

    small = big_log(tmp_path / "small.log", 2_000, host="s")
    big_log(tmp_path / "small.log.more", 10, host="m")
    big = big_log(tmp_path / "big.log", 300_000, host="b", noise=True)  # 4.8 MB of noise: no room
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    root = os.geteuid() == 0 and shutil.which("unshare") is not None
    script = _FULL_DISK.replace("FAKE", repr(_FAKE))
    cmd = [sys.executable, "-c", script, str(mnt), str(small), str(big), "tmpfs" if root else "fake"]
    if root:
        cmd = ["unshare", "-m", "--propagation", "private", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["codes"] == [0, 2, 0], got
    assert "No space left on device" in got["stderr"] and "Traceback" not in got["stderr"]
    assert got["tool"] == got["generic"] == 2_010  # the full run left nothing behind
    assert got["leftovers"] == []
