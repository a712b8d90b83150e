"""Sessions, attempts, findings and attempt counts on a Dask LocalCluster equal the pandas path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.events import sources
from maillog_forensics.tables.attempt_stats import attempt_counts, username_stats
from maillog_forensics.tables.dask_sessions import sessions_on_cluster
from tests.corpus import corpus_path
from tests.events.test_dask_ingest import generated


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The corpus logs and a generated log over midnight, ingested in 64 KiB batches (many parts)."""
    tmp = tmp_path_factory.mktemp("dask-tables")
    log = generated(tmp / "mail.log", lines=30000, start="2026-03-01T23:20:00", mtime=1772582400)
    corpus = [
        str(corpus_path("postfix-lab", name))
        for name in ("mail.syslog-traditional.log", "mail.postlogd.log", "dovecot.syslog.log")
    ]
    with pytest.MonkeyPatch.context() as mp:
        defaults = dict(sources.iter_batches.__kwdefaults__ or {})
        mp.setattr(sources.iter_batches, "__kwdefaults__", {**defaults, "block_bytes": 64 << 10})
        mf.ingest(corpus, tmp / "corpus", tz="Europe/Berlin")
        mf.ingest([str(log)], tmp / "generated", tz="UTC")
    yield {"corpus": tmp / "corpus", "generated": tmp / "generated"}


@pytest.mark.parametrize("name", ["corpus", "generated"])
def test_sessions_on_cluster_equal_the_pandas_sessions(
    dask_client: Any, datasets: dict[str, Path], name: str
) -> None:
    events = mf.load_events(datasets[name])
    expected = mf.sessions_from_events(events)
    got = sessions_on_cluster(datasets[name], client=dask_client)
    pd.testing.assert_frame_equal(got, expected)
    assert len(expected) > 100
    if name == "generated":
        # sessions that cross midnight (and so two date partitions and part files) stay whole
        assert (expected["start"].dt.date != expected["end"].dt.date).sum() > 0
        assert expected["postscreen_verdict"].notna().sum() > 0


@pytest.mark.parametrize("name", ["corpus", "generated"])
def test_attempts_and_findings_from_cluster_sessions(
    dask_client: Any, datasets: dict[str, Path], name: str
) -> None:
    ds = datasets[name]
    events = mf.load_events(ds)
    key = mf.load_or_create_key(ds)
    sessions = mf.sessions_from_events(events)
    attempts = mf.auth_attempts_from_events(events, sessions=sessions, hmac_key=key)
    found = mf.findings(events, sessions=sessions, attempts=attempts)
    cluster_sessions = sessions_on_cluster(ds, client=dask_client)
    cluster_attempts = mf.auth_attempts_from_events(events, sessions=cluster_sessions, hmac_key=key)
    pd.testing.assert_frame_equal(cluster_attempts, attempts)
    pd.testing.assert_frame_equal(
        mf.findings(events, sessions=cluster_sessions, attempts=cluster_attempts), found
    )
    assert len(attempts) > 100 and len(found) > 0


def test_attempt_counts_and_username_stats_on_dask_equal_pandas(
    dask_client: Any, datasets: dict[str, Path]
) -> None:
    import dask.dataframe as dd

    events = mf.load_events(datasets["generated"])
    attempts = mf.auth_attempts_from_events(events)
    cols = ["ts", "client_ip", "username", "outcome"]
    half = len(attempts) // 2
    # two pieces with their own RangeIndex: duplicate index labels across partitions, and
    # Dask's own string dtype (string[pyarrow]) instead of pandas' str
    lazy = dd.concat(
        [
            dd.from_pandas(attempts[cols].iloc[:half].reset_index(drop=True), npartitions=2),
            dd.from_pandas(attempts[cols].iloc[half:].reset_index(drop=True), npartitions=3),
        ]
    )
    for freq in ("10min", "1h"):
        expected = attempt_counts(attempts, freq=freq)
        pd.testing.assert_frame_equal(attempt_counts(lazy, freq=freq), expected)
        assert expected["failed"].sum() > 0
    expected = username_stats(attempts)
    pd.testing.assert_frame_equal(username_stats(lazy), expected)
    assert len(expected) > 5
    # the counts agree with a plain group-by
    failed = attempts[attempts["outcome"].isin(["failed", "rejected", "aborted", "rate_limited"])]
    assert expected.set_index("username")["failed"].sum() == failed["username"].notna().sum()


def test_sessions_on_cluster_take_a_window_and_a_scheduler_address(
    dask_client: Any, datasets: dict[str, Path]
) -> None:
    ds = datasets["generated"]
    ts = mf.load_events(ds, columns=["ts"])["ts"].dropna().sort_values()
    start, end = ts.iloc[len(ts) // 4], ts.iloc[len(ts) // 2]
    expected = mf.sessions_from_events(mf.load_events(ds, start=start, end=end))
    got = sessions_on_cluster(ds, scheduler=dask_client.scheduler.address, start=start, end=end)
    pd.testing.assert_frame_equal(got, expected)
    assert 0 < len(expected) < len(mf.sessions_from_events(mf.load_events(ds)))
    with pytest.raises(ValueError, match="either a Dask client or a scheduler"):
        sessions_on_cluster(ds)


def test_cli_analysis_on_a_scheduler_equals_the_local_run(
    dask_client: Any, datasets: dict[str, Path]
) -> None:
    import io
    import subprocess
    import sys

    ds = str(datasets["generated"])
    address = dask_client.scheduler.address

    def cli(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "maillog_forensics.cli", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout

    def tasks_run() -> int:
        return int(dask_client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter))

    local = cli("findings", ds, "--format", "json")
    before = tasks_run()
    assert cli("findings", ds, "--format", "json", "--scheduler", address) == local
    assert tasks_run() > before
    assert len(pd.read_json(io.StringIO(local))) > 0
    sessions = cli("export", "sessions", ds, "--format", "csv", "--scheduler", address)
    assert sessions == cli("export", "sessions", ds, "--format", "csv")
    assert cli("blocklist", ds, "--scheduler", address) == cli("blocklist", ds)


def test_report_notebook_with_a_scheduler_parameter_says_what_the_local_run_says(
    dask_client: Any, datasets: dict[str, Path], tmp_path: Path
) -> None:
    import json

    from maillog_forensics.report import run_report

    ds = str(datasets["corpus"])
    summaries = []
    for name, params in (("local", {}), ("cluster", {"scheduler": dask_client.scheduler.address})):
        results = run_report(
            [ds], str(tmp_path / name), parameters=params, notebooks=("incident_report",), quiet=True
        )
        assert [r.error for r in results] == [None]
        summaries.append(json.loads((tmp_path / name / "summary.json").read_text()))
    local, cluster = summaries
    assert cluster == local
    assert local["compromised_accounts"] and local["sessions"] > 10
