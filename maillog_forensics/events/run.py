"""Sources → parse → store, streaming in bounded memory.

One batch of lines (a few MB) is read, parsed and written at a time; writing runs in a
background thread while the next batch is parsed. Re-ingesting a file already in the
dataset adds nothing; a file that grew (or was rotated with more lines appended) adds
only its new lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from . import syslog
from .bookkeeping import (
    PROGRESS_MIN_BYTES,
    IngestStats,
    Progress,
    commit_run,
    count_kinds,
    file_note,
    infer_context,
    local_zone_name,
    parse_batch,
    prior_entry,
    queue_id_year_check,
    record_input,
    source_name,
)
from .parse import TimeContext
from .sources import gather_inputs, iter_batches
from .store import DatasetWriter

__all__ = ["IngestStats", "ingest", "local_zone_name"]


def ingest(
    paths: Sequence[str],
    dataset: str | os.PathLike[str],
    *,
    year: int | None = None,
    tz: str | None = None,
    host_filter: Sequence[str] | None = None,
    quiet: bool = True,
    progress_stream: TextIO | None = None,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    threads: int | None = None,
    wait: bool = False,
) -> IngestStats:
    """Parse raw mail logs into a Parquet event dataset.

    Parameters
    ----------
    paths
        Files, folders, globs, or ``"-"`` for standard input; gz/bz2/xz/zst and
        ``journalctl -o json`` exports are recognised by content.
    dataset
        Dataset folder (created if missing). Existing content is kept; files already
        ingested are not added twice, and grown files add only their new lines.
    year
        Year of the first year-less line (classic syslog and postlogd have none).
        Default: inferred per file from its modification time, checked against long
        queue ids.
    tz
        IANA zone of time stamps written without an offset. Default: this machine's.
    host_filter
        Keep only lines whose syslog host is one of these.
    quiet
        No progress bar.
    scheduler
        Address of a Dask scheduler (``tcp://HOST:PORT``): parse on that cluster's workers
        (see :func:`maillog_forensics.events.pipeline.ingest_on_cluster`; needs the ``dask``
        extra, and workers must reach the dataset folder at the same path).
    dask_workers
        Parse on a local Dask cluster of this many worker processes instead.
    threads
        Batches parsed at once on this machine (no Dask needed). Default: the number of
        CPUs, at most 4; 1 parses batch after batch. The dataset is the same either way.
    wait
        If another run is writing to the dataset, wait for it to finish. Default: fail at
        once with :class:`maillog_forensics.events.lock.DatasetBusyError`.

    Returns
    -------
    IngestStats
        Counts of lines, rows and kinds; ``summary()`` prints them.
    """
    on_cluster = scheduler is not None or dask_workers is not None
    if on_cluster and threads is not None:
        raise ValueError("give parse threads or a Dask cluster (scheduler / dask_workers), not both")
    if threads is None:
        # the CPUs this process may use (affinity, cpusets), not all the machine has
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        threads = min(usable or 1, 4)
    if threads < 1:
        raise ValueError(f"the number of parse threads must be at least 1, not {threads}")
    if on_cluster or threads > 1:
        # the pipelined path: on a Dask cluster, or on a local thread pool (about 1.4x faster
        # on 2 cores); ``threads=1`` keeps the sequential loop below, the reference
        from ..common.cluster import ThreadPoolClient, cluster_client
        from .pipeline import ingest_on_cluster

        pool: contextlib.AbstractContextManager[Any] = (
            cluster_client(scheduler=scheduler, workers=dask_workers)
            if on_cluster
            else contextlib.closing(ThreadPoolClient(threads))
        )
        with pool as client:
            return ingest_on_cluster(
                paths,
                dataset,
                client=client,
                year=year,
                tz=tz,
                host_filter=host_filter,
                quiet=quiet,
                progress_stream=progress_stream,
                wait=wait,
            )
    started = time.perf_counter()
    zone = tz or local_zone_name()
    syslog.local_offset_seconds(zone, 2000, 1, 1, 0)  # fail early on an unknown zone name
    found = gather_inputs(paths)
    inputs = found.inputs
    root = Path(dataset)
    writer = DatasetWriter(root, wait=wait)  # the lock first: the manifest is read under it
    manifest = writer.manifest
    stats = IngestStats(
        dataset=str(root), skipped=[{"path": s.path, "reason": s.reason} for s in found.skipped]
    )
    stream = progress_stream or sys.stderr
    total = sum(i.size for i in inputs)
    progress = Progress(
        total, stream=stream, enabled=not quiet and stream.isatty() and total > PROGRESS_MIN_BYTES
    )
    hosts = set(host_filter) if host_filter else None
    pool = ThreadPoolExecutor(max_workers=1)
    pending: list[Future[None]] = []
    carried: TimeContext | None = TimeContext(zone, year) if year is not None else None
    done_bytes = 0
    try:
        for inp in inputs:
            prior = prior_entry(manifest, inp)
            name = source_name(manifest, inp, prior)
            skip = int(prior["lines"]) if prior else 0
            ctx = carried
            if prior and prior.get("year_end") is not None:
                ctx = TimeContext(zone, int(prior["year_end"]), prior.get("last_month"))
            inference: dict[str, Any] = {"tz": zone}
            new_lines = 0
            for batch in iter_batches(inp, skip_lines=skip, hold_partial=True):
                if ctx is None:
                    ctx, inference = infer_context(batch.lines, inp, zone)
                parsed = parse_batch(batch, name, ctx)
                if inference.get("source") == "mtime" and "queue_id_check" not in inference:
                    check = queue_id_year_check(parsed.frame)
                    inference["queue_id_check"] = check
                    if check["correction"]:
                        ctx.year = inference["start_year"] + check["correction"]
                        ctx.last_month = None
                        inference["start_year"] = ctx.year
                        inference["source"] = "long queue ids"
                        parsed = parse_batch(batch, name, ctx)
                frame = parsed.frame
                stats.lines += frame.height
                new_lines += frame.height
                if hosts is not None:
                    keep = frame.get_column("host").is_in(sorted(hosts)).fill_null(False)
                    stats.filtered += frame.height - int(keep.sum())
                    frame = frame.filter(keep)
                count_kinds(stats, frame)
                secrets = [(name, ln, k, s) for ln, k, s in parsed.secrets]
                stats.secrets_redacted += len({ln for _, ln, _, _ in secrets})
                stats.rows_written += frame.height
                while len(pending) >= 2:
                    pending.pop(0).result()
                pending.append(pool.submit(writer.write, frame, secrets))
                progress.update(inp.path, done_bytes + batch.bytes_read, stats.lines)
            done_bytes += inp.size
            if ctx is not None:
                inference["year_end"] = ctx.year
                inference["last_month"] = ctx.last_month
            if year is not None:
                inference.setdefault("source", "--year")
                inference.setdefault("start_year", year)
                carried = ctx
            note = file_note(inp, name, prior, new_lines)
            stats.files.append({"path": inp.path, "new_lines": new_lines, "note": note})
            record_input(manifest, inp, inference, prior, name, new_lines)
        for f in pending:
            f.result()
        stats.seconds = time.perf_counter() - started
        commit_run(manifest, writer, stats)
    except BaseException:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)
        writer.abort()
        raise
    finally:
        progress.close()
    pool.shutdown(wait=True)
    return stats
