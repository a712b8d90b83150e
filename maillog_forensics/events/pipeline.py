"""Ingest on a Dask cluster: the client reads, the workers parse and write, the client commits.

The same dataset as :func:`maillog_forensics.events` (same rows, same part files per batch,
same provenance, same manifest), with the expensive step (``parse.parse_lines``, about 90 %
of the time) spread over the workers:

- **Reading** stays on the client: :func:`sources.iter_batches` cuts each input into
  batches of whole lines with their first line number, hashes it and counts its lines,
  exactly as on one machine. Workers need no access to the logs.
- **Parsing and writing** run as one task per batch: the worker calls ``parse_lines`` and
  writes the batch's part files into the run's staging folder with
  :func:`store.write_part` (so the dataset folder must be reachable by the workers at the
  same path: a shared file system).
- **Year inference** depends on file order: a year-less stamp takes the year of the line
  before it. Each task is given the year/month context the client *expects* at its start
  (a cheap month scan of the lines on the client) and reports what it saw (first and last
  month, year steps). The client walks the results in input order with the exact
  context, exactly as the single-machine loop does; a batch parsed with a context that
  would give other years is parsed again with the right one (its stale staged files are
  never committed). The first batch of an inferred file does the long-queue-id check on
  its worker, as the single-machine path does on its first batch.
- **Manifest**: written once, by the client, with the same helpers as on one machine.

At most ``window`` batches are in flight, so client memory stays bounded.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from . import syslog
from .bookkeeping import (
    PROGRESS_MIN_BYTES,
    IngestStats,
    Progress,
    commit_run,
    file_note,
    first_line_hash,
    infer_context,
    local_zone_name,
    prior_entry,
    queue_id_year_check,
    record_input,
    source_name,
)
from .parse import TimeContext, parse_lines
from .sources import InputFile, LineBatch, gather_inputs, iter_batches
from .store import DatasetWriter, write_part

__all__ = ["ChunkResult", "ingest_on_cluster", "parse_chunk"]


@dataclass
class ChunkResult:
    """What a worker did with one batch: the counts the client adds up, the files it staged."""

    seq: int
    year_in: int  # the context the final parse started from
    month_in: int | None
    first_month: int | None  # month of the batch's first year-less stamp (None: it has none)
    year_out: int  # the context after the batch
    month_out: int | None
    check: dict[str, Any] | None  # the long-queue-id year check (first batch of an inferred file)
    lines: int
    filtered: int
    kinds: list[tuple[str, int]]
    unparsed_examples: list[str]
    secrets: int
    files: list[str] = field(default_factory=list)
    secret_files: list[str] = field(default_factory=list)


def _step(prev: int | None, month: int) -> int:
    """Year step between two consecutive year-less stamps (as ``parse._fast_ts`` counts it)."""
    if prev is None:
        return 0
    d = month - prev
    return 1 if d < -6 else -1 if d > 6 else 0


def _first_year_less_month(frame: pl.DataFrame) -> int | None:
    """Month of the first stamp ``parse._fast_ts`` treats as year-less, from the parsed rows."""
    raw = pl.col("ts_raw")
    months = (
        frame.lazy()
        .select(raw)
        .filter(raw.is_not_null() & raw.str.contains("^[A-Z]"))
        .select(raw.str.slice(0, 3).replace_strict(syslog.MONTHS, default=None, return_dtype=pl.Int64))
        .drop_nulls()
        .head(1)
        .collect()
    )
    return int(months.item()) if months.height else None


def parse_chunk(
    batch: LineBatch,
    *,
    path: str,
    seq: int,
    tz: str,
    year: int,
    last_month: int | None,
    check_queue_ids: bool,
    hosts: Sequence[str] | None,
    staging: str,
    run_id: str,
) -> ChunkResult:
    """Parse one batch and stage its part files (runs on a worker).

    Parameters
    ----------
    batch
        Lines of one input with their first line number and input flags.
    path
        The input's name (provenance).
    seq
        Number of the batch within the run (names its part files).
    tz, year, last_month
        The time context to start from (``parse.TimeContext``).
    check_queue_ids
        First batch of a file whose year was inferred from its modification time: check
        the year against long queue ids, and parse again with the corrected year if needed.
    hosts
        Keep only lines of these syslog hosts (``--host-filter``).
    staging, run_id
        The run's staging folder and id (``store.DatasetWriter``).

    Returns
    -------
    ChunkResult
    """
    ctx = TimeContext(tz, year, last_month)
    parsed = parse_lines(
        batch.lines, source_file=path, first_line_no=batch.first_line_no, ctx=ctx, flags=batch.flags
    )
    check = None
    if check_queue_ids:
        check = queue_id_year_check(parsed.frame)
        if check["correction"]:
            year, last_month = year + check["correction"], None  # the start, before parsing moves ctx
            ctx = TimeContext(tz, year, None)
            parsed = parse_lines(
                batch.lines, source_file=path, first_line_no=batch.first_line_no, ctx=ctx, flags=batch.flags
            )
    frame = parsed.frame
    first_month = _first_year_less_month(frame)
    lines = frame.height
    if hosts is not None:
        keep = frame.get_column("host").is_in(sorted(hosts)).fill_null(False)
        frame = frame.filter(keep)
    kinds: list[tuple[str, int]] = []
    examples: list[str] = []
    if frame.height:
        kinds = [(str(k), int(n)) for k, n in frame.get_column("kind").value_counts().iter_rows()]
        msgs = frame.filter(pl.col("kind") == "unparsed").get_column("message")
        examples = [str(m) for m in msgs.head(20).to_list()]
    secrets = [(path, ln, k, s) for ln, k, s in parsed.secrets]
    files, secret_files = write_part(Path(staging), run_id, seq, frame, secrets)
    return ChunkResult(
        seq=seq,
        year_in=year,
        month_in=last_month,
        first_month=first_month,
        year_out=ctx.year,
        month_out=ctx.last_month,
        check=check,
        lines=lines,
        filtered=lines - frame.height,
        kinds=kinds,
        unparsed_examples=examples,
        secrets=len({ln for _, ln, _, _ in secrets}),
        files=files,
        secret_files=secret_files,
    )


# ============================================================================ client side


@dataclass
class _FileStart:
    inp: InputFile
    prior: dict[str, Any] | None
    name: str  # the rows' source_file (ingest.source_name)


@dataclass
class _FileEnd:
    inp: InputFile


@dataclass
class _Chunk:
    inp: InputFile
    name: str
    batch: LineBatch
    seq: int
    segment: int  # chunks of one segment share one running year (a file, or files carried by --year)
    year: int  # the context the task is given
    last_month: int | None
    guess_year_out: int  # the client's own guess of the year after the batch (before any shift)
    inferred: tuple[TimeContext, dict[str, Any]] | None  # the file's inferred start (first batch only)
    future: Any = None


@dataclass
class _Guess:
    """The reader's running guess of the year context, corrected as exact results arrive."""

    shift: dict[int, int] = field(default_factory=dict)


def _guess_after(year: int, month: int | None, lines: pl.Series) -> tuple[int, int | None]:
    """The year context after ``lines``, guessed from the lines that start with a BSD stamp."""
    months = (
        lines.str.extract(syslog.YEAR_LESS_START, 1)
        .drop_nulls()
        .replace_strict(syslog.MONTHS, default=None, return_dtype=pl.Int64)
        .drop_nulls()
    )
    if len(months) == 0:
        return year, month
    arr = months.to_list()
    year += _step(month, arr[0]) + sum(_step(a, b) for a, b in itertools.pairwise(arr))
    return year, arr[-1]


def _plan(
    inputs: list[InputFile],
    manifest: dict[str, Any],
    *,
    zone: str,
    year: int | None,
    guess: _Guess,
    drain: Callable[[], None],
) -> Iterator[_FileStart | _Chunk | _FileEnd]:
    """Read the inputs in order and say what to parse, with a guessed time context per batch."""
    seq = 0
    segment = 0
    carried: tuple[int, int | None] | None = (year, None) if year is not None else None
    heads: set[str] = set()
    claimed: set[str] = set()  # names given to this run's files (the manifest lags behind)
    for inp in inputs:
        if not inp.is_stdin:
            head = first_line_hash(inp)
            if head in heads:
                # the same log under two names in one run: its prior entry is written by
                # this run, so wait for it (the single-machine loop sees it at this point)
                drain()
            heads.add(head)
        prior = prior_entry(manifest, inp)
        name = source_name(manifest, inp, prior, claimed=claimed)
        claimed.add(name)
        skip = int(prior["lines"]) if prior else 0
        running: tuple[int, int | None] | None = carried
        if prior and prior.get("year_end") is not None:
            running = (int(prior["year_end"]), prior.get("last_month"))
            segment += 1
        elif carried is None:
            segment += 1
        yield _FileStart(inp, prior, name)
        for batch in iter_batches(inp, skip_lines=skip, hold_partial=True):
            inferred = None
            if running is None:
                ctx, inference = infer_context(batch.lines, inp, zone)
                inferred = (TimeContext(ctx.tz, ctx.year, ctx.last_month), inference)
                running = (ctx.year, ctx.last_month)
            guess_year, guess_month = _guess_after(running[0], running[1], batch.lines)
            shift = guess.shift.get(segment, 0)
            yield _Chunk(
                inp=inp,
                name=name,
                batch=batch,
                seq=seq,
                segment=segment,
                year=running[0] + shift,
                last_month=running[1],
                guess_year_out=guess_year,
                inferred=inferred,
            )
            running = (guess_year, guess_month)
            seq += 1
        if year is not None:
            carried = running
        yield _FileEnd(inp)


def _effective(year: int, month: int | None, first_month: int) -> int:
    """Year of a batch's first year-less stamp when the batch starts from ``(year, month)``."""
    return year + _step(month, first_month)


def ingest_on_cluster(
    paths: Sequence[str],
    dataset: str | os.PathLike[str],
    *,
    client: Any,
    year: int | None = None,
    tz: str | None = None,
    host_filter: Sequence[str] | None = None,
    quiet: bool = True,
    progress_stream: TextIO | None = None,
    window: int | None = None,
    wait: bool = False,
) -> IngestStats:
    """Parse raw mail logs into a Parquet event dataset on a Dask cluster.

    Same inputs, options and result as :func:`maillog_forensics.events` (which calls this
    for ``scheduler=`` / ``dask_workers=``), and the same dataset.

    Parameters
    ----------
    paths, dataset, year, tz, host_filter, quiet, progress_stream, wait
        As for :func:`maillog_forensics.events`.
    client
        A ``distributed.Client`` (see :func:`maillog_forensics.common.cluster.cluster_client`).
        Its workers must see ``dataset`` at the same path.
    window
        Batches in flight at once (each ~8 MB of text on the client). Default: twice the
        cluster's threads, plus two.

    Returns
    -------
    IngestStats
    """
    started = time.perf_counter()
    zone = tz or local_zone_name()
    syslog.local_offset_seconds(zone, 2000, 1, 1, 0)  # fail early on an unknown zone name
    found = gather_inputs(paths)
    inputs = found.inputs
    root = Path(dataset).resolve()
    writer = DatasetWriter(root, wait=wait)  # the lock first: the manifest is read under it
    manifest = writer.manifest
    stats = IngestStats(
        dataset=str(Path(dataset)), skipped=[{"path": s.path, "reason": s.reason} for s in found.skipped]
    )
    stream = progress_stream or sys.stderr
    total = sum(i.size for i in inputs)
    progress = Progress(
        total, stream=stream, enabled=not quiet and stream.isatty() and total > PROGRESS_MIN_BYTES
    )
    hosts = sorted(set(host_filter)) if host_filter else None
    if window is None:
        window = 2 * max(1, sum(client.nthreads().values())) + 2
    guess = _Guess()
    pending: deque[_FileStart | _Chunk | _FileEnd] = deque()
    run = _Run(
        client=client,
        zone=zone,
        year=year,
        hosts=hosts,
        staging=str(writer.staging),
        writer=writer,
        manifest=manifest,
        stats=stats,
        guess=guess,
        progress=progress,
    )

    def settle_one() -> None:
        run.settle(pending.popleft())

    def drain() -> None:
        while pending:
            settle_one()

    try:
        for item in _plan(inputs, manifest, zone=zone, year=year, guess=guess, drain=drain):
            if isinstance(item, _Chunk):
                item.future = run.submit(item, item.year, item.last_month, check=item.inferred is not None)
            pending.append(item)  # before settling older items: a failure below still waits for it
            while sum(isinstance(p, _Chunk) for p in pending) > window:
                settle_one()
        drain()
        stats.seconds = time.perf_counter() - started
        commit_run(manifest, writer, stats)
    except BaseException:
        futures = [p.future for p in pending if isinstance(p, _Chunk) and p.future is not None]
        for f in futures:
            f.cancel()
        # tasks already running still write part files (and secrets) into the staging
        # folder: let them finish before it is removed, or they would recreate it
        for f in futures:
            with contextlib.suppress(BaseException):
                f.result()
        writer.abort()
        raise
    finally:
        progress.close()
    return stats


@dataclass
class _Run:
    """The client's side of a run: the exact time context, counts and manifest, in input order."""

    client: Any
    zone: str
    year: int | None
    hosts: list[str] | None
    staging: str
    writer: DatasetWriter
    manifest: dict[str, Any]
    stats: IngestStats
    guess: _Guess
    progress: Progress
    ctx: TimeContext | None = None
    carried: TimeContext | None = None
    inference: dict[str, Any] = field(default_factory=dict)
    prior: dict[str, Any] | None = None
    name: str = ""
    new_lines: int = 0
    done_bytes: int = 0

    def __post_init__(self) -> None:
        self.carried = TimeContext(self.zone, self.year) if self.year is not None else None

    def submit(self, chunk: _Chunk, year: int, last_month: int | None, *, check: bool) -> Any:
        data = self.client.scatter(chunk.batch, hash=False)
        return self.client.submit(
            parse_chunk,
            data,
            path=chunk.name,
            seq=chunk.seq,
            tz=self.zone,
            year=year,
            last_month=last_month,
            check_queue_ids=check,
            hosts=self.hosts,
            staging=self.staging,
            run_id=self.writer.run_id,
            pure=False,
        )

    def settle(self, item: _FileStart | _Chunk | _FileEnd) -> None:
        if isinstance(item, _FileStart):
            self._start(item)
        elif isinstance(item, _Chunk):
            self._chunk(item)
        else:
            self._end(item)

    def _start(self, item: _FileStart) -> None:
        # as ingest(): a file continues the carried context, or its prior entry's
        self.prior = item.prior
        self.name = item.name
        self.ctx = self.carried
        if item.prior and item.prior.get("year_end") is not None:
            self.ctx = TimeContext(self.zone, int(item.prior["year_end"]), item.prior.get("last_month"))
        self.inference = {"tz": self.zone}
        self.new_lines = 0

    def _chunk(self, chunk: _Chunk) -> None:
        if self.ctx is None:
            assert chunk.inferred is not None
            start, self.inference = chunk.inferred
            self.ctx = TimeContext(start.tz, start.year, start.last_month)
        ctx = self.ctx
        result: ChunkResult = chunk.future.result()
        if self.inference.get("source") == "mtime" and "queue_id_check" not in self.inference:
            assert result.check is not None
            self.inference["queue_id_check"] = result.check
            if result.check["correction"]:
                ctx.year = self.inference["start_year"] + result.check["correction"]
                ctx.last_month = None
                self.inference["start_year"] = ctx.year
                self.inference["source"] = "long queue ids"
        if result.first_month is not None and _effective(
            ctx.year, ctx.last_month, result.first_month
        ) != _effective(result.year_in, result.month_in, result.first_month):
            # parsed with a context that gives other years: parse again with the exact one
            result = self.submit(chunk, ctx.year, ctx.last_month, check=False).result()
        if result.first_month is not None:
            steps = result.year_out - _effective(result.year_in, result.month_in, result.first_month)
            ctx.year = _effective(ctx.year, ctx.last_month, result.first_month) + steps
            ctx.last_month = result.month_out
        self.guess.shift[chunk.segment] = ctx.year - chunk.guess_year_out
        chunk.future = None
        stats = self.stats
        stats.lines += result.lines
        self.new_lines += result.lines
        stats.filtered += result.filtered
        for kind, n in result.kinds:
            stats.kinds[kind] += n
        if len(stats.unparsed_examples) < 20:
            stats.unparsed_examples.extend(result.unparsed_examples[: 20 - len(stats.unparsed_examples)])
        stats.secrets_redacted += result.secrets
        stats.rows_written += result.lines - result.filtered
        self.writer.adopt(result.files, result.secret_files)
        self.progress.update(chunk.inp.path, self.done_bytes + chunk.batch.bytes_read, stats.lines)

    def _end(self, item: _FileEnd) -> None:
        inp, ctx, inference, prior = item.inp, self.ctx, self.inference, self.prior
        self.done_bytes += inp.size
        if ctx is not None:
            inference["year_end"] = ctx.year
            inference["last_month"] = ctx.last_month
        if self.year is not None:
            inference.setdefault("source", "--year")
            inference.setdefault("start_year", self.year)
            self.carried = ctx
        note = file_note(inp, self.name, prior, self.new_lines)
        self.stats.files.append({"path": inp.path, "new_lines": self.new_lines, "note": note})
        record_input(self.manifest, inp, inference, prior, self.name, self.new_lines)
