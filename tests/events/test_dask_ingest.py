"""Ingest on a real Dask LocalCluster writes the same dataset as the single-machine path."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.cli import main
from maillog_forensics.events import pipeline, sources
from maillog_forensics.events.pipeline import ingest_on_cluster
from maillog_forensics.events.store import read_manifest
from tests.corpus import REPO, corpus_path

NEW_YEAR = 1767398400  # 2026-01-03T00:00:00Z: the mtime that anchors a log of 2025-12-31 → 2026-01-01


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Read inputs in 64 KiB blocks (both paths): many batches, boundaries anywhere."""
    defaults = dict(sources.iter_batches.__kwdefaults__ or {})
    monkeypatch.setattr(sources.iter_batches, "__kwdefaults__", {**defaults, "block_bytes": 64 << 10})
    yield


def generated(path: Path, *, lines: int, start: str, mtime: int, extra: tuple[str, ...] = ()) -> Path:
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "gen_benchlog.py"),
            "--lines",
            str(lines),
            "--seed",
            "1",
            "--start",
            start,
            *extra,
            "-o",
            str(path),
        ],
        check=True,
    )
    os.utime(path, (mtime, mtime))
    return path


def assert_same_dataset(single: Path, cluster: Path) -> None:
    """Same events, secrets and manifest (but for run ids and times)."""
    pd.testing.assert_frame_equal(mf.load_events(single), mf.load_events(cluster))
    pd.testing.assert_frame_equal(mf.load_secrets(single), mf.load_secrets(cluster))
    a, b = read_manifest(single), read_manifest(cluster)
    for key in ("inputs", "kind_counts", "rows", "unparsed_examples", "tool", "format_version"):
        assert a.get(key) == b.get(key), key

    def parts(m: dict[str, Any], key: str) -> list[str]:
        return [f.replace(run["run_id"], "RUN") for f in m[key] for run in m["runs"] if run["run_id"] in f]

    assert parts(a, "files") == parts(b, "files")
    assert parts(a, "secret_files") == parts(b, "secret_files")
    assert len(a["runs"]) == len(b["runs"])
    for ra, rb in zip(a["runs"], b["runs"], strict=True):
        assert (ra["lines"], ra["rows_written"], ra["files"]) == (
            rb["lines"],
            rb["rows_written"],
            rb["files"],
        )
    assert not list(cluster.glob(".staging-*"))


def both(
    client: Any, inputs: list[str], tmp_path: Path, name: str = "", **options: Any
) -> tuple[Path, Path, mf.IngestStats, mf.IngestStats]:
    single, cluster = tmp_path / f"single{name}", tmp_path / f"cluster{name}"
    s = mf.ingest(inputs, single, threads=1, **options)  # the sequential path is the reference
    c = ingest_on_cluster(inputs, cluster, client=client, **options)
    return single, cluster, s, c


def same_stats(s: mf.IngestStats, c: mf.IngestStats) -> None:
    assert (s.lines, s.rows_written, s.filtered, s.secrets_redacted) == (
        c.lines,
        c.rows_written,
        c.filtered,
        c.secrets_redacted,
    )
    assert s.kinds == c.kinds
    assert s.unparsed_examples == c.unparsed_examples
    assert s.files == c.files


def test_corpus_logs_give_the_same_dataset(dask_client: Any, tmp_path: Path, small_batches: None) -> None:
    logs = [
        str(corpus_path("postfix-lab", name))
        for name in (
            "mail.syslog-traditional.log",
            "mail.syslog-rfc3339.log",
            "mail.postlogd.log",
            "dovecot.syslog.log",
            "dovecot.native.log",
        )
    ]
    single, cluster, s, c = both(dask_client, logs, tmp_path, tz="Europe/Berlin")
    assert s.lines > 5000 and len(read_manifest(single)["files"]) > 5
    same_stats(s, c)
    assert_same_dataset(single, cluster)


def test_year_inference_across_batches_and_new_year(
    dask_client: Any, tmp_path: Path, small_batches: None
) -> None:
    log = generated(tmp_path / "mail.log", lines=12000, start="2025-12-31T23:45:00", mtime=NEW_YEAR)
    single, cluster, s, c = both(dask_client, [str(log)], tmp_path, tz="UTC")
    same_stats(s, c)
    assert_same_dataset(single, cluster)
    years = mf.load_events(cluster, columns=["ts"])["ts"].dt.year.value_counts()
    assert years[2025] > 1000 and years[2026] > 1000
    assert read_manifest(cluster)["inputs"][0]["year_end"] == 2026


def test_wrong_guesses_are_parsed_again(
    dask_client: Any, tmp_path: Path, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the client's cheap guess of each batch's year is wrong on purpose: every batch that
    # has year-less stamps is parsed again with the exact context, the dataset is the same
    log = generated(tmp_path / "mail.log", lines=6000, start="2025-12-31T23:50:00", mtime=NEW_YEAR)
    real = pipeline._guess_after
    monkeypatch.setattr(pipeline, "_guess_after", lambda y, m, lines: (real(y, m, lines)[0] + 7, 1))
    submitted: list[int] = []
    submit = pipeline._Run.submit

    def counting(self: Any, chunk: Any, *args: Any, **kwargs: Any) -> Any:
        submitted.append(chunk.seq)
        return submit(self, chunk, *args, **kwargs)

    monkeypatch.setattr(pipeline._Run, "submit", counting)
    single, cluster, s, c = both(dask_client, [str(log)], tmp_path, tz="UTC")
    batches = len(set(submitted))
    assert batches > 5 and len(submitted) > batches  # some batches were parsed twice
    same_stats(s, c)
    assert_same_dataset(single, cluster)


def test_year_carried_over_rotated_files_then_grown_file(
    dask_client: Any, tmp_path: Path, small_batches: None
) -> None:
    # --year: the running year carries from file to file (oldest first); then the newest
    # file grows and only its new lines are added, continuing its recorded year
    full = generated(tmp_path / "full.log", lines=9000, start="2025-12-31T23:30:00", mtime=NEW_YEAR)
    lines = full.read_bytes().split(b"\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "mail.log.2.gz").write_bytes(gzip.compress(b"\n".join(lines[:3000]) + b"\n"))
    (logs / "mail.log.1").write_bytes(b"\n".join(lines[3000:6000]) + b"\n")
    (logs / "mail.log").write_bytes(b"\n".join(lines[6000:7500]) + b"\n")
    single, cluster, s, c = both(dask_client, [str(logs)], tmp_path, tz="UTC", year=2025)
    same_stats(s, c)
    assert_same_dataset(single, cluster)
    with open(logs / "mail.log", "ab") as fh:
        fh.write(b"\n".join(lines[7500:]))
    s = mf.ingest([str(logs)], single, tz="UTC", year=2025, threads=1)
    c = ingest_on_cluster([str(logs)], cluster, client=dask_client, tz="UTC", year=2025)
    same_stats(s, c)
    assert c.lines == len(lines) - 7500 - (lines[-1] == b"")
    assert_same_dataset(single, cluster)


def test_same_log_twice_in_one_run_and_host_filter(
    dask_client: Any, tmp_path: Path, small_batches: None
) -> None:
    log = corpus_path("postfix-lab", "mail.syslog-traditional.log")
    copy = tmp_path / "copy-of-mail.log"
    shutil.copy2(log, copy)
    single, cluster, s, c = both(dask_client, [str(log), str(copy)], tmp_path, tz="UTC")
    assert c.files[1]["new_lines"] == 0
    same_stats(s, c)
    assert_same_dataset(single, cluster)
    host = str(mf.load_events(single, columns=["host"])["host"].dropna().iloc[0])
    single, cluster, s, c = both(dask_client, [str(log)], tmp_path, "-f", tz="UTC", host_filter=[host, "x"])
    same_stats(s, c)
    assert_same_dataset(single, cluster)


def test_long_queue_ids_correct_a_wrong_mtime_year(dask_client: Any, tmp_path: Path) -> None:
    log = generated(
        tmp_path / "mail.log",
        lines=3000,
        start="2026-03-01T00:00:00",
        mtime=NEW_YEAR + 900 * 86400,  # mid-2028: a copied file's mtime
        extra=("--long-queue-ids",),
    )
    single, cluster, s, c = both(dask_client, [str(log)], tmp_path, tz="UTC")
    assert read_manifest(cluster)["inputs"][0]["source"] == "long queue ids"
    same_stats(s, c)
    assert_same_dataset(single, cluster)


def test_cli_dask_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = corpus_path("postfix-lab", "mail.syslog-traditional.log")
    assert main(["ingest", str(log), "-o", str(tmp_path / "ds"), "--tz", "UTC", "--dask-workers", "1"]) == 0
    assert "ingested 1,890 lines" in capsys.readouterr().out
    assert read_manifest(tmp_path / "ds")["rows"] == 1890


def test_cli_without_the_dask_extra_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    log = corpus_path("postfix-lab", "mail.syslog-traditional.log")
    assert main(["ingest", str(log), "-o", str(tmp_path / "ds"), "--dask-workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'maillog-forensics[dask]'" in err
    assert not (tmp_path / "ds").exists()
