#!/usr/bin/env python3
"""Single machine vs a Dask LocalCluster on one log: times, and proof the outputs are equal.

Usage::

    python scripts/gen_benchlog.py --lines 2000000 --seed 1 -o /tmp/bench/bench-2M.log
    python scripts/bench_dask.py --log /tmp/bench/bench-2M.log --workdir /tmp/bench/dask --workers 2

Ingests the log both ways (``--tz UTC --year 2026``), then checks that the event tables,
secrets and manifests are equal, that ``sessions_on_cluster`` equals ``sessions_from_events``,
and that attempts and findings computed with the cluster's sessions equal the pandas ones.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

import maillog_forensics as mf
from maillog_forensics.common.cluster import cluster_client
from maillog_forensics.events.pipeline import ingest_on_cluster
from maillog_forensics.events.store import read_manifest
from maillog_forensics.tables.dask_sessions import sessions_on_cluster


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    single, cluster = work / "single", work / "cluster"
    opts = {"tz": "UTC", "year": 2026}

    t = time.perf_counter()
    s = mf.ingest([args.log], single, **opts)
    print(f"ingest, single machine: {time.perf_counter() - t:.1f} s ({s.lines:,} lines)")
    with cluster_client(workers=args.workers) as client:
        t = time.perf_counter()
        c = ingest_on_cluster([args.log], cluster, client=client, **opts)
        took = time.perf_counter() - t
        print(f"ingest, LocalCluster {args.workers} workers: {took:.1f} s ({c.lines:,} lines)")
        t = time.perf_counter()
        events = mf.load_events(single)
        print(f"load_events: {time.perf_counter() - t:.1f} s")
        pd.testing.assert_frame_equal(events, mf.load_events(cluster))
        pd.testing.assert_frame_equal(mf.load_secrets(single), mf.load_secrets(cluster))
        ma, mb = read_manifest(single), read_manifest(cluster)
        for key in ("inputs", "kind_counts", "rows", "unparsed_examples"):
            assert ma[key] == mb[key], key
        print("events, secrets, manifest: equal")
        t = time.perf_counter()
        sessions = mf.sessions_from_events(events)
        print(f"sessions, pandas: {time.perf_counter() - t:.1f} s ({len(sessions):,})")
        t = time.perf_counter()
        dask_sessions = sessions_on_cluster(cluster, client=client)
        print(f"sessions, LocalCluster (from the dataset): {time.perf_counter() - t:.1f} s")
        pd.testing.assert_frame_equal(dask_sessions, sessions)
        print("sessions: equal")
    key = mf.load_or_create_key(single)
    t = time.perf_counter()
    attempts = mf.auth_attempts_from_events(events, sessions=sessions, hmac_key=key)
    print(f"attempts, pandas: {time.perf_counter() - t:.1f} s ({len(attempts):,})")
    pd.testing.assert_frame_equal(
        mf.auth_attempts_from_events(events, sessions=dask_sessions, hmac_key=key), attempts
    )
    found = mf.findings(events, sessions=sessions, attempts=attempts)
    pd.testing.assert_frame_equal(mf.findings(events, sessions=dask_sessions, attempts=attempts), found)
    print(f"attempts and findings ({len(found)}) with the cluster's sessions: equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
