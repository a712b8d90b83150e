"""Reading a dataset: load_events in pieces (iter_events) and row selections."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.events.store import event_times, iter_events

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "mail.log"


@pytest.fixture(scope="module")
def three_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as a rotated set of three files (mail.log.2, .1, mail.log): three inputs."""
    tmp = tmp_path_factory.mktemp("store")
    lines = SAMPLE.read_text().splitlines(keepends=True)
    third = len(lines) // 3
    for name, part in (
        ("mail.log.2", lines[:third]),
        ("mail.log.1", lines[third : 2 * third]),
        ("mail.log", lines[2 * third :]),
    ):
        (tmp / name).write_text("".join(part))
    mf.ingest(
        [str(tmp / n) for n in ("mail.log", "mail.log.1", "mail.log.2")], tmp / "ds", tz="UTC", year=2026
    )
    return tmp / "ds"


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categories differ from piece to piece: compare values."""
    return df.astype({c: object for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})


@pytest.mark.parametrize("chunk_lines", [97, 500, 1_000_000])
def test_iter_events_pieces_make_up_load_events(three_inputs: Path, chunk_lines: int) -> None:
    pieces = list(iter_events(three_inputs, chunk_lines=chunk_lines))
    whole = mf.load_events(three_inputs)
    got = pd.concat([_plain(p) for p in pieces], ignore_index=True)
    pd.testing.assert_frame_equal(got, _plain(whole))
    assert len(whole) == sum(i["lines"] for i in mf.store.read_manifest(three_inputs)["inputs"])
    for p in pieces:
        assert len(p) <= chunk_lines
        assert p["source_file"].nunique() == 1
    if chunk_lines == 97:
        assert len(pieces) > 3 * (len(whole) // 3 // 97)


def test_iter_events_takes_the_filters_of_load_events(three_inputs: Path) -> None:
    ts = mf.load_events(three_inputs, columns=["ts"])["ts"].dropna().sort_values()
    start, end = ts.iloc[len(ts) // 5], ts.iloc[len(ts) // 2]
    options = {"start": start, "end": end, "kinds": ["sasl_failed", "connect"], "columns": ["ts", "kind"]}
    got = pd.concat(
        [_plain(p) for p in iter_events(three_inputs, chunk_lines=50, **options)], ignore_index=True
    )
    want = _plain(mf.load_events(three_inputs, **options))
    pd.testing.assert_frame_equal(got, want)
    assert 0 < len(want) < len(ts)
    assert list(got.columns) == ["ts", "kind"]


def test_iter_events_keeps_rows_of_an_input_the_manifest_no_longer_lists(
    three_inputs: Path, tmp_path: Path
) -> None:
    import json

    ds = tmp_path / "ds"
    shutil.copytree(three_inputs, ds)
    manifest = json.loads((ds / "manifest.json").read_text())
    manifest["inputs"] = manifest["inputs"][1:]
    (ds / "manifest.json").write_text(json.dumps(manifest))
    got = sum(len(p) for p in iter_events(ds, chunk_lines=300))
    assert got == len(mf.load_events(ds)) > 0


def test_iter_events_refuses_an_empty_piece_size(three_inputs: Path) -> None:
    with pytest.raises(ValueError, match="chunk_lines"):
        next(iter_events(three_inputs, chunk_lines=0))


def test_iter_events_follows_load_events_when_a_path_is_read_twice(tmp_path: Path) -> None:
    """stdin twice, and mail.log re-read after rotation: one source_file, lines of two files."""
    import subprocess
    import sys

    lines = SAMPLE.read_text().splitlines(keepends=True)
    ds = tmp_path / "ds"
    for part in (lines[:300], lines[300:500]):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "maillog_forensics.cli",
                "ingest",
                "-",
                "-o",
                str(ds),
                "-q",
                "--tz",
                "UTC",
                "--year",
                "2026",
            ],
            input="".join(part),
            text=True,
            check=True,
        )
    log = tmp_path / "mail.log"
    log.write_text("".join(lines[500:1200]))
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    log.rename(tmp_path / "mail.log.1")
    log.write_text("".join(lines[1200:1300]))  # the new file is shorter than the old one
    mf.ingest([str(tmp_path / "mail.log.1"), str(log)], ds, tz="UTC", year=2026)
    whole = mf.load_events(ds)
    assert len(whole) == 1300
    for chunk_lines in (40, 1_000_000):
        got = pd.concat([_plain(p) for p in iter_events(ds, chunk_lines=chunk_lines)], ignore_index=True)
        pd.testing.assert_frame_equal(got, _plain(whole))


def test_event_times_gives_the_times_of_the_lines_asked_for(three_inputs: Path) -> None:
    events = mf.load_events(three_inputs, columns=["ts", "source_file", "line_no"])
    picked = events.iloc[[0, 5, len(events) - 1]]
    wanted = {(str(f), int(n)) for f, n in zip(picked["source_file"], picked["line_no"], strict=True)}
    missing = {(str(picked["source_file"].iloc[0]), 10**9), ("no-such-file", 1)}
    times = event_times(three_inputs, wanted | missing)
    assert times == {
        (str(f), int(n)): ts
        for f, n, ts in zip(picked["source_file"], picked["line_no"], picked["ts"], strict=True)
    }
    assert event_times(three_inputs, []) == {}


def test_count_events_counts_what_load_events_gives(three_inputs: Path) -> None:
    from maillog_forensics.events.store import count_events

    ts = mf.load_events(three_inputs, columns=["ts"])["ts"]
    assert count_events(three_inputs) == len(ts) > 0
    start, end = ts.dropna().sort_values().iloc[[len(ts) // 4, len(ts) // 2]]
    assert count_events(three_inputs, start=start, end=end) == len(
        mf.load_events(three_inputs, start=start, end=end)
    )
    assert 0 < count_events(three_inputs, start=start) < len(ts)


def test_part_files_store_categoricals_as_dictionaries_and_filter_statistics(three_inputs: Path) -> None:
    """Readers get dictionaries without re-encoding; statistics only where readers filter."""
    import pyarrow.parquet as pq

    from maillog_forensics.events.schema import EVENT_SCHEMA

    files = mf.store.read_manifest(three_inputs)["files"]
    assert files
    for rel in files:
        pf = pq.ParquetFile(three_inputs / rel)
        assert pf.schema_arrow == EVENT_SCHEMA
        chunk = pf.metadata.row_group(0)
        stats = {chunk.column(i).path_in_schema: chunk.column(i).statistics for i in range(chunk.num_columns)}
        assert stats["line_no"] is not None and stats["line_no"].has_min_max
        assert stats["ts"] is not None
        assert stats["message"] is None
        kind = chunk.column(list(stats).index("kind"))
        assert "RLE_DICTIONARY" in kind.encodings or "PLAIN_DICTIONARY" in kind.encodings


def test_a_batch_across_midnight_is_split_by_utc_date(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(
        "Mar  1 23:59:59 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n"
        "no time stamp at all\n"
        "Mar  2 00:00:00 mx postfix/smtpd[1]: disconnect from a[192.0.2.1] ehlo=1 commands=1\n"
    )
    mf.ingest([str(log)], tmp_path / "ds", tz="UTC", year=2026)
    files = sorted(mf.store.read_manifest(tmp_path / "ds")["files"])
    assert [f.split("/")[1] for f in files] == ["date=2026-03-01", "date=2026-03-02", "date=none"]
    import pyarrow.parquet as pq

    in_parts = [pq.read_table(tmp_path / "ds" / f).column("line_no").to_pylist() for f in files]
    assert in_parts == [[1], [3], [2]]
    events = mf.load_events(tmp_path / "ds")
    assert events["line_no"].tolist() == [1, 2, 3]
    assert events["kind"].tolist() == ["connect", "unparsed", "disconnect"]


def test_source_names_read_old_and_new_manifests() -> None:
    from maillog_forensics.events.store import shared_source_names, source_names

    new = {"path": "mail.log.1", "source_files": ["mail.log", "mail.log.1"]}
    old = {"path": "mail.log.1", "also_known_as": ["mail.log"]}
    assert source_names(new) == source_names(old) == ["mail.log", "mail.log.1"]
    rotated = {"inputs": [new, {"path": "mail.log", "source_files": ["mail.log#2"]}]}
    assert shared_source_names(rotated) == []
    # written before a new file at a read path got its own name: two files, one name
    before = {"inputs": [{"path": "mail.log"}, {"path": "mail.log"}, {"path": "other.log"}]}
    assert shared_source_names(before) == ["mail.log"]


# ---------------------------------------------------------------------------- faults at commit

#: two days (two event part files) and a password in clear (a secret part file)
FAULT_LINES = [
    "Nov 27 19:08:30 mail postfix/smtpd[1]: connect from unknown[192.0.2.2]",
    "Nov 28 19:08:31 mail postfix/smtpd[1]: connect from unknown[192.0.2.3]",
    "Nov 28 19:08:32 mail dovecot: auth: Debug: client passdb out: FAIL\t1\tuser=bob\tpassword=Hunter2secret",
]

#: ingests argv[2] into argv[1], SIGKILLed at the commit step argv[3] (1-based renames; "rmtree":
#: after the manifest, while the staging folder is removed)
_KILL_AT = """
import os, shutil, signal, sys
import maillog_forensics as mf
from maillog_forensics.events import store
step, count, real_replace = sys.argv[3], [0], os.replace
def replace(src, dst):
    count[0] += 1
    if str(count[0]) == step:
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst)
def rmtree(path, ignore_errors=False):
    if step == "rmtree" and ".staging-" in str(path):
        os.kill(os.getpid(), signal.SIGKILL)
store.os.replace = replace
store.shutil.rmtree = rmtree
mf.ingest([sys.argv[2]], sys.argv[1], tz="UTC", year=2026, threads=1)
"""


def _generic_rows(dataset: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_table(dataset / "events").num_rows)


def _leftovers(dataset: Path) -> list[str]:
    return sorted(p.name for p in dataset.iterdir() if p.name.startswith((".staging-", ".manifest-")))


@pytest.mark.parametrize("step", ["1", "2", "3", "4", "rmtree"])
def test_kill_at_each_commit_step_loses_nothing_and_is_rolled_back(tmp_path: Path, step: str) -> None:
    import subprocess
    import sys

    ds = tmp_path / "ds"
    first = tmp_path / "first.log"
    first.write_text(SAMPLE.read_text())
    mf.ingest([str(first)], ds, tz="UTC", year=2026)
    before = len(mf.load_events(ds))
    log = tmp_path / "mail.log"
    log.write_text("\n".join(FAULT_LINES) + "\n")
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_AT, str(ds), str(log), step], capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr  # killed where asked: renames 1-3 are the parts, 4 the manifest
    committed = step == "rmtree"
    assert len(mf.load_events(ds)) == before + (3 if committed else 0)  # all or nothing
    # the next writer rolls back what the dead run left, then adds its own lines
    more = tmp_path / "more.log"
    more.write_text(FAULT_LINES[0].replace("192.0.2.2", "192.0.2.9") + "\n")
    mf.ingest([str(more), str(log)], ds, tz="UTC", year=2026)
    assert _leftovers(ds) == []
    assert _generic_rows(ds) == len(mf.load_events(ds)) == before + 1 + 3
    secrets = mf.store.load_secrets(ds)
    assert list(secrets["secret"]).count("Hunter2secret") == 1


def test_full_disk_at_the_manifest_write_removes_the_moved_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from maillog_forensics.events import store

    ds = tmp_path / "ds"
    first = tmp_path / "first.log"
    first.write_text(SAMPLE.read_text())
    mf.ingest([str(first)], ds, tz="UTC", year=2026)
    before = len(mf.load_events(ds))
    log = tmp_path / "mail.log"
    log.write_text("\n".join(FAULT_LINES) + "\n")

    def full(path: Path, data: bytes) -> None:
        path.write_bytes(data[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(store, "_write_durably", full)
        with pytest.raises(OSError, match="No space left"):
            mf.ingest([str(log)], ds, tz="UTC", year=2026, threads=1)
    assert _leftovers(ds) == []
    assert _generic_rows(ds) == len(mf.load_events(ds)) == before
    mf.ingest([str(log)], ds, tz="UTC", year=2026)  # the lock was released
    assert _generic_rows(ds) == len(mf.load_events(ds)) == before + 3


def test_a_new_dataset_is_owner_only(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)  # the usual umask: files would be world-readable
    try:
        log = tmp_path / "mail.log"
        log.write_text("\n".join(FAULT_LINES) + "\n")
        ds = tmp_path / "case" / "ds"
        mf.ingest([str(log)], ds, tz="UTC", year=2026)
        more = tmp_path / "more.log"
        more.write_text(FAULT_LINES[0] + "\n")
        mf.ingest([str(more)], ds, tz="UTC", year=2026, threads=2)
    finally:
        os.umask(old)
    modes = {str(p.relative_to(ds)): stat.S_IMODE(p.stat().st_mode) for p in [ds, *ds.rglob("*")]}
    assert modes["."] == 0o700
    assert {m for p, m in modes.items() if (ds / p).is_dir()} == {0o700}
    assert {m for p, m in modes.items() if (ds / p).is_file()} == {0o600}
    kinds = {p.split("/")[0] for p in modes}
    assert {"manifest.json", ".lock", "events", "secrets"} <= kinds
    assert len([p for p in modes if p.startswith("events/") and p.endswith(".parquet")]) == 3


def test_an_existing_dataset_keeps_its_mode_and_new_files_are_owner_only(tmp_path: Path) -> None:
    import os
    import stat

    ds = tmp_path / "ds"
    ds.mkdir(mode=0o750)
    os.chmod(ds, 0o750)  # a case folder shared with a group on purpose
    log = tmp_path / "mail.log"
    log.write_text("\n".join(FAULT_LINES) + "\n")
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    assert stat.S_IMODE(ds.stat().st_mode) == 0o750
    assert {stat.S_IMODE(p.stat().st_mode) for p in ds.rglob("*") if p.is_file()} == {0o600}
