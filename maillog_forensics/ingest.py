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
from collections import Counter
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from . import __version__, syslog
from .parse import ParsedBatch, TimeContext, parse_lines
from .sources import InputFile, LineBatch, content_prefix_sha256, expand_inputs, iter_batches
from .store import DatasetWriter, read_manifest, source_names

__all__ = ["IngestStats", "ingest", "local_zone_name"]

PROGRESS_MIN_BYTES = 4 << 20


@dataclass
class IngestStats:
    """What an ingest run read and wrote."""

    dataset: str
    lines: int = 0
    rows_written: int = 0
    filtered: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    files: list[dict[str, Any]] = field(default_factory=list)
    unparsed_examples: list[str] = field(default_factory=list)
    secrets_redacted: int = 0
    seconds: float = 0.0

    @property
    def unparsed(self) -> int:
        """Rows no pattern knows (kind ``unparsed``)."""
        return self.kinds.get("unparsed", 0)

    @property
    def parsed_fraction(self) -> float:
        """Share of written rows with a known kind (``other_program`` counts as known)."""
        return 1.0 - self.unparsed / self.rows_written if self.rows_written else 1.0

    @property
    def lines_per_second(self) -> float:
        """Throughput of this run."""
        return self.lines / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        """A short human summary (attacker text already made terminal-safe)."""
        from .export import terminal_safe

        out = [
            f"ingested {self.lines:,} lines from {len(self.files)} file(s) into {self.dataset} "
            f"in {self.seconds:.1f} s ({self.lines_per_second:,.0f} lines/s)",
            f"rows written {self.rows_written:,}; parsed {self.parsed_fraction:.2%}; "
            f"unparsed {self.unparsed:,}; credentials redacted from {self.secrets_redacted:,} lines",
        ]
        if self.filtered:
            out.append(f"left out by --host-filter: {self.filtered:,} lines")
        for f in self.files:
            note = f.get("note", "")
            out.append(f"  {terminal_safe(f['path'])}: {f['new_lines']:,} new lines{note}")
        top = ", ".join(f"{k} {v:,}" for k, v in self.kinds.most_common(12))
        out.append(f"kinds: {top}")
        for ex in self.unparsed_examples[:5]:
            out.append(f"  unparsed: {terminal_safe(ex[:160])}")
        return "\n".join(out)


def local_zone_name() -> str:
    """The machine's local IANA time zone name (``UTC`` if it cannot be told)."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if (tz and "/" in tz) or tz == "UTC":
        return tz
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    return "UTC"


class _Progress:
    def __init__(self, total_bytes: int, *, stream: TextIO, enabled: bool) -> None:
        self.total = max(total_bytes, 1)
        self.stream = stream
        self.enabled = enabled
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, name: str, done_bytes: int, lines: int) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.last < 0.25:
            return
        self.last = now
        rate = lines / max(now - self.start, 1e-9)
        pct = min(100.0, 100.0 * done_bytes / self.total)
        self.stream.write(f"\r[ingest] {pct:5.1f}%  {lines:>12,} lines  {rate:>10,.0f} lines/s  {name[-40:]}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


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
        (see :func:`maillog_forensics.dask_ingest.ingest_on_cluster`; needs the ``dask``
        extra, and workers must reach the dataset folder at the same path).
    dask_workers
        Parse on a local Dask cluster of this many worker processes instead.
    threads
        Batches parsed at once on this machine (no Dask needed). Default: the number of
        CPUs, at most 4; 1 parses batch after batch. The dataset is the same either way.

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
        from .cluster import ThreadPoolClient, cluster_client
        from .dask_ingest import ingest_on_cluster

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
            )
    started = time.perf_counter()
    zone = tz or local_zone_name()
    syslog.local_offset_seconds(zone, 2000, 1, 1, 0)  # fail early on an unknown zone name
    inputs = expand_inputs(paths)
    root = Path(dataset)
    manifest = read_manifest(root)
    writer = DatasetWriter(root)
    stats = IngestStats(dataset=str(root))
    stream = progress_stream or sys.stderr
    total = sum(i.size for i in inputs)
    progress = _Progress(
        total, stream=stream, enabled=not quiet and stream.isatty() and total > PROGRESS_MIN_BYTES
    )
    hosts = set(host_filter) if host_filter else None
    pool = ThreadPoolExecutor(max_workers=1)
    pending: list[Future[None]] = []
    carried: TimeContext | None = TimeContext(zone, year) if year is not None else None
    done_bytes = 0
    try:
        for inp in inputs:
            prior = _prior_entry(manifest, inp)
            name = source_name(manifest, inp, prior)
            skip = int(prior["lines"]) if prior else 0
            ctx = carried
            if prior and prior.get("year_end") is not None:
                ctx = TimeContext(zone, int(prior["year_end"]), prior.get("last_month"))
            inference: dict[str, Any] = {"tz": zone}
            new_lines = 0
            for batch in iter_batches(inp, skip_lines=skip):
                if ctx is None:
                    ctx, inference = _infer_context(batch.lines, inp, zone)
                parsed = _parse(batch, name, ctx)
                if inference.get("source") == "mtime" and "queue_id_check" not in inference:
                    check = _queue_id_year_check(parsed.frame)
                    inference["queue_id_check"] = check
                    if check["correction"]:
                        ctx.year = inference["start_year"] + check["correction"]
                        ctx.last_month = None
                        inference["start_year"] = ctx.year
                        inference["source"] = "long queue ids"
                        parsed = _parse(batch, name, ctx)
                frame = parsed.frame
                stats.lines += frame.height
                new_lines += frame.height
                if hosts is not None:
                    keep = frame.get_column("host").is_in(sorted(hosts)).fill_null(False)
                    stats.filtered += frame.height - int(keep.sum())
                    frame = frame.filter(keep)
                _count(stats, frame)
                secrets = [(name, ln, k, s) for ln, k, s in parsed.secrets]
                stats.secrets_redacted += len(secrets)
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
            _record_input(manifest, inp, inference, prior, name, new_lines)
        for f in pending:
            f.result()
        stats.seconds = time.perf_counter() - started
        _commit(manifest, writer, stats)
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


def _commit(manifest: dict[str, Any], writer: DatasetWriter, stats: IngestStats) -> None:
    """Add this run's record and counts to the manifest and commit the staged files."""
    manifest["tool"] = {"name": "maillog-forensics", "version": __version__}
    manifest["runs"] = [*manifest.get("runs", []), _run_record(writer.run_id, stats)]
    totals = Counter(manifest.get("kind_counts", {}))
    totals.update(stats.kinds)
    manifest["kind_counts"] = dict(totals.most_common())
    manifest["rows"] = int(manifest.get("rows", 0)) + stats.rows_written
    examples = list(manifest.get("unparsed_examples", [])) + stats.unparsed_examples
    manifest["unparsed_examples"] = examples[:50]
    writer.commit(manifest)


def _parse(batch: LineBatch, name: str, ctx: TimeContext) -> ParsedBatch:
    return parse_lines(
        batch.lines, source_file=name, first_line_no=batch.first_line_no, ctx=ctx, flags=batch.flags
    )


def source_name(
    manifest: dict[str, Any],
    inp: InputFile,
    prior: dict[str, Any] | None,
    *,
    claimed: Collection[str] = (),
) -> str:
    """The ``source_file`` of the rows this read of ``inp`` adds: its path, unless that
    already names rows of another file in the dataset.

    A log rotated between two runs leaves a new file at the old path; its line 1 is not
    the line 1 read before, so its rows are named ``PATH#2`` (``#3``, ...) and every
    ``(source_file, line_no)`` still names one line. A read that continues ``prior`` (the
    same file, grown) keeps the name its rows had. ``claimed``: names given to earlier
    inputs of this run that the manifest does not list yet (the pipelined reader plans
    ahead of the manifest).
    """
    taken = set(claimed) - set(source_names(prior) if prior else ())
    for entry in manifest.get("inputs", []):
        if prior is None or not _same_entry(entry, prior):
            taken.update(source_names(entry))
    own = [f"{inp.path}#{k}" for k in range(2, 2 + len(taken) + 1)]
    if prior and prior.get("source_file") in {inp.path, *own} and prior["source_file"] not in taken:
        return str(prior["source_file"])
    return next(n for n in (inp.path, *own) if n not in taken)


def _same_entry(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("content_sha256"), a.get("path")) == (b.get("content_sha256"), b.get("path"))


def file_note(inp: InputFile, name: str, prior: dict[str, Any] | None, new_lines: int) -> str:
    """What the closing summary says about an input beyond its line count."""
    note = "" if new_lines or not prior else " (already in the dataset)"
    if name != inp.path and new_lines:
        what = "its new lines" if prior else "a new file at a path read before: its lines"
        note += f" ({what} are named {name!r})"
    return note + "".join(f" [warning: {w}]" for w in inp.warnings)


def _count(stats: IngestStats, frame: pl.DataFrame) -> None:
    if not frame.height:
        return
    for kind, n in frame.get_column("kind").value_counts().iter_rows():
        stats.kinds[kind] += n
    if len(stats.unparsed_examples) < 20:
        msgs = frame.filter(pl.col("kind") == "unparsed").get_column("message")
        stats.unparsed_examples.extend(msgs.head(20 - len(stats.unparsed_examples)).to_list())


def _prior_entry(manifest: dict[str, Any], inp: InputFile) -> dict[str, Any] | None:
    """The manifest entry whose content is a prefix of this input's content, if any."""
    if inp.is_stdin:
        return None
    head = _first_line_hash(inp)
    candidates = [e for e in manifest.get("inputs", []) if e.get("head_sha256") == head]
    for entry in sorted(candidates, key=lambda e: -int(e.get("content_bytes", 0))):
        if content_prefix_sha256(inp, int(entry["content_bytes"])) == entry["content_sha256"]:
            return dict(entry)
    return None


def _first_line_hash(inp: InputFile) -> str:
    import hashlib

    from .sources import _open_decompressed

    with open(inp.path, "rb") as raw, _open_decompressed(inp, raw) as fh:
        first = fh.readline(1 << 20).rstrip(b"\n")
    return hashlib.sha256(first).hexdigest()


def _infer_context(lines: pl.Series, inp: InputFile, zone: str) -> tuple[TimeContext, dict[str, Any]]:
    """Start year of a file's year-less time stamps, anchored on its modification time."""
    anchor = (inp.mtime or datetime.now(UTC)).astimezone(_zone(zone))
    first = _first_bsd_month_day(lines)
    if first is None:
        return TimeContext(zone, anchor.year), {
            "tz": zone,
            "source": "mtime",
            "start_year": anchor.year,
            "anchor": anchor.isoformat(),
            "year_less_lines": False,
        }
    start = syslog.infer_start_year(first[0], first[1], anchor)
    return TimeContext(zone, start), {
        "tz": zone,
        "source": "mtime",
        "start_year": start,
        "anchor": anchor.isoformat(),
        "year_less_lines": True,
    }


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _first_bsd_month_day(lines: pl.Series) -> tuple[int, int] | None:
    for line in lines.head(5000).to_list():
        ts = line[:15]
        if syslog.TS_RE.fullmatch(ts) and ts[:3] in syslog.MONTHS:
            return syslog.MONTHS[ts[:3]], int(ts[4:6])
    return None


def _queue_id_year_check(frame: pl.DataFrame) -> dict[str, Any]:
    """Compare year-less time stamps with the enqueue time coded in long queue ids."""
    sample = frame.filter(
        pl.col("queue_id").str.contains(syslog.LONG_QID_RE.pattern) & ~pl.col("ts_raw").str.contains("^[0-9]")
    ).head(200)
    qids = sample.get_column("queue_id").to_list()
    tss = sample.get_column("ts").to_list()
    raws = sample.get_column("ts_raw").to_list()
    deltas: Counter[int] = Counter()
    checked = 0
    for qid, ts, raw in zip(qids, tss, raws, strict=True):
        if qid is None or ts is None or raw is None or raw[:1].isdigit():
            continue
        enq = syslog.decode_long_queue_id(qid)
        if enq is None:
            continue
        checked += 1
        days = (enq - ts).total_seconds() / 86400
        deltas[round(days / 365.2425)] += 1
        if checked >= 200:
            break
    correction = 0
    if checked:
        best, n = deltas.most_common(1)[0]
        if best != 0 and n > checked / 2:
            correction = best
    return {"checked": checked, "agree": deltas.get(0, 0), "correction": correction}


def _record_input(
    manifest: dict[str, Any],
    inp: InputFile,
    inference: dict[str, Any],
    prior: dict[str, Any] | None,
    name: str,
    new_lines: int,
) -> None:
    entries = list(manifest.get("inputs", []))
    # a file read again keeps its place: the manifest lists files in log order, which is
    # the order of their rows (a rotated log read again under its new name stays first)
    place = next(
        (n for n, e in enumerate(entries) if prior is not None and _same_entry(e, prior)), len(entries)
    )
    earlier = source_names(prior) if prior else []
    entry = {
        "path": inp.path,
        # the rows' name for the lines this read added, and every name of the file's rows
        "source_file": name,
        # (a read that added no line names nothing: an empty file keeps no name from the next)
        "source_files": [*earlier, *([name] if new_lines and name not in earlier else [])],
        "compression": inp.compression,
        "format": inp.format,
        "size": inp.size,
        "mtime": inp.mtime.isoformat() if inp.mtime else None,
        "sha256": inp.sha256,
        "content_sha256": inp.content_sha256,
        "content_bytes": inp.content_bytes,
        "head_sha256": inp.head_sha256,
        "lines": inp.lines,
        "warnings": inp.warnings,
        "previous_lines": int(prior["lines"]) if prior else 0,
        "also_known_as": sorted(
            {*(prior.get("also_known_as", []) if prior else []), *([prior["path"]] if prior else [])}
            - {inp.path}
        ),
        **{k: v for k, v in inference.items()},
    }
    entries[place : place + 1] = [entry]
    manifest["inputs"] = entries


def _run_record(run_id: str, stats: IngestStats) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "finished": datetime.now(UTC).isoformat(),
        "tool_version": __version__,
        "lines": stats.lines,
        "rows_written": stats.rows_written,
        "seconds": round(stats.seconds, 3),
        "files": stats.files,
    }
