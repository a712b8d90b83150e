"""Sessions, attempts, findings and attempt counts on a Dask LocalCluster equal the pandas path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics import sources
from maillog_forensics.attempt_stats import attempt_counts, username_stats
from maillog_forensics.dask_sessions import sessions_on_cluster
from tests.corpus import corpus_path
from tests.test_dask_ingest import generated


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


def test_attempts_and_findings_from_cluster_sessions(dask_client: Any, datasets: dict[str, Path]) -> None:
    ds = datasets["generated"]
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
