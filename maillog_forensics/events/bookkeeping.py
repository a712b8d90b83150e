"""What an ingest run records: its counts, its progress bar, each input's manifest entry.

Both ways of running an ingest (the sequential loop in :mod:`.run` and the pipelined
reader in :mod:`.pipeline`) keep their books with these helpers, so a dataset's manifest is
the same whichever ran.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from ..common.version import __version__
from ..common.wording import counted
from . import syslog
from .parse import ParsedBatch, TimeContext, parse_lines
from .sources import InputFile, LineBatch, content_prefix_sha256, open_decompressed
from .store import DatasetWriter, source_names

__all__ = [
    "PROGRESS_MIN_BYTES",
    "IngestStats",
    "Progress",
    "commit_run",
    "count_kinds",
    "file_note",
    "first_line_hash",
    "infer_context",
    "local_zone_name",
    "parse_batch",
    "prior_entry",
    "queue_id_year_check",
    "record_input",
    "skipped_inputs",
    "source_name",
    "time_inference_text",
]

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
    skipped: list[dict[str, str]] = field(default_factory=list)  # files of folders not read: path, reason
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
        from ..common.safe_text import terminal_safe
        from .coverage import input_coverage

        problem = input_coverage(self.kinds).format_problem
        out = [f"WARNING: {problem}"] if problem else []
        out += [
            f"ingested {self.lines:,} lines from {counted(len(self.files), 'file')} into {self.dataset} "
            f"in {self.seconds:.1f} s ({self.lines_per_second:,.0f} lines/s)",
            f"rows written {self.rows_written:,}; parsed {self.parsed_fraction:.2%}; "
            f"unparsed {self.unparsed:,}; credentials redacted from {self.secrets_redacted:,} lines",
        ]
        if self.filtered:
            out.append(f"left out by --host-filter: {self.filtered:,} lines")
        for f in self.files:
            note = f.get("note", "")
            out.append(f"  {terminal_safe(f['path'])}: {f['new_lines']:,} new lines{note}")
        if self.skipped:
            out.append(f"skipped {counted(len(self.skipped), 'file')} that are no text log:")
        for s in self.skipped:
            out.append(f"  {terminal_safe(s['path'])}: not read: {terminal_safe(s['reason'])}")
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


class Progress:
    """A one-line progress bar on a terminal: share of bytes read, lines, lines per second."""

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


def commit_run(manifest: dict[str, Any], writer: DatasetWriter, stats: IngestStats) -> None:
    """Add this run's record and counts to the manifest and commit the staged files."""
    manifest["tool"] = {"name": "maillog-forensics", "version": __version__}
    manifest["runs"] = [*manifest.get("runs", []), _run_record(writer.run_id, stats)]
    totals = Counter(manifest.get("kind_counts", {}))
    totals.update(stats.kinds)
    manifest["kind_counts"] = dict(totals.most_common())
    manifest["rows"] = int(manifest.get("rows", 0)) + stats.rows_written
    examples = list(manifest.get("unparsed_examples", [])) + stats.unparsed_examples
    manifest["unparsed_examples"] = examples[:50]
    manifest["skipped_inputs"] = skipped_inputs(manifest, stats)
    writer.commit(manifest)


def skipped_inputs(manifest: dict[str, Any], stats: IngestStats) -> list[dict[str, str]]:
    """The manifest's list of files not read (path, reason): earlier runs' and this run's,
    one entry per path, less the files this run did read."""
    read = {f["path"] for f in stats.files}
    mine = {s["path"] for s in stats.skipped}
    earlier = [s for s in manifest.get("skipped_inputs", []) if s["path"] not in read | mine]
    return [*earlier, *stats.skipped]


def parse_batch(batch: LineBatch, name: str, ctx: TimeContext) -> ParsedBatch:
    """Parse one batch of lines as rows of source file ``name``, under time context ``ctx``."""
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
        if prior is None or not same_entry(entry, prior):
            taken.update(source_names(entry))
    own = [f"{inp.path}#{k}" for k in range(2, 2 + len(taken) + 1)]
    if prior and prior.get("source_file") in {inp.path, *own} and prior["source_file"] not in taken:
        return str(prior["source_file"])
    return next(n for n in (inp.path, *own) if n not in taken)


def same_entry(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two manifest entries describe the same read (same content, same path)."""
    return (a.get("content_sha256"), a.get("path")) == (b.get("content_sha256"), b.get("path"))


def file_note(inp: InputFile, name: str, prior: dict[str, Any] | None, new_lines: int) -> str:
    """What the closing summary says about an input beyond its line count."""
    note = "" if new_lines or not prior else " (already in the dataset)"
    if name != inp.path and new_lines:
        what = "its new lines" if prior else "a new file at a path read before: its lines"
        note += f" ({what} are named {name!r})"
    return note + "".join(f" [warning: {w}]" for w in inp.warnings)


def count_kinds(stats: IngestStats, frame: pl.DataFrame) -> None:
    """Add a parsed frame's line kinds (and a few unparsed examples) to ``stats``."""
    if not frame.height:
        return
    for kind, n in frame.get_column("kind").value_counts().iter_rows():
        stats.kinds[kind] += n
    if len(stats.unparsed_examples) < 20:
        msgs = frame.filter(pl.col("kind") == "unparsed").get_column("message")
        stats.unparsed_examples.extend(msgs.head(20 - len(stats.unparsed_examples)).to_list())


def prior_entry(manifest: dict[str, Any], inp: InputFile) -> dict[str, Any] | None:
    """The manifest entry whose content is a prefix of this input's content, if any."""
    if inp.is_stdin:
        return None
    head = first_line_hash(inp)
    # a read that held back its only (unfinished) line knew no first line: same path
    candidates = [
        e
        for e in manifest.get("inputs", [])
        if e.get("head_sha256") == head or (int(e.get("content_bytes", 0)) == 0 and e.get("path") == inp.path)
    ]
    for entry in sorted(candidates, key=lambda e: -int(e.get("content_bytes", 0))):
        if content_prefix_sha256(inp, int(entry["content_bytes"])) == entry["content_sha256"]:
            return dict(entry)
    return None


def first_line_hash(inp: InputFile) -> str:
    """SHA-256 of the input's first line (decompressed): the key prior reads are found by."""
    with open(inp.path, "rb") as raw, open_decompressed(inp, raw) as fh:
        first = fh.readline(1 << 20).rstrip(b"\n")
    return hashlib.sha256(first).hexdigest()


def infer_context(lines: pl.Series, inp: InputFile, zone: str) -> tuple[TimeContext, dict[str, Any]]:
    """Start year of a file's year-less time stamps, anchored on its modification time."""
    anchor = (inp.mtime or datetime.now(UTC)).astimezone(_zone(zone))
    first = _first_bsd_month_day(lines)
    if first is None:
        # no year-less stamp: the year (and, with an offset, the zone) come from the lines;
        # the anchor and the zone serve only year-less lines further on
        years, offsets = _stamp_years_and_offsets(lines)
        record: dict[str, Any] = {
            "tz": zone,
            "source": "lines" if years else "mtime",
            # what the lines say, when they say it (the anchor's year otherwise)
            "start_year": years[0] if years else anchor.year,
            "anchor": anchor.isoformat(),
            "year_less_lines": False,
        }
        if years:
            record["line_offsets"] = offsets
        return TimeContext(zone, anchor.year), record
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


def _stamp_years_and_offsets(lines: pl.Series) -> tuple[list[int], list[str]]:
    """Years and UTC offsets the first lines' ISO 8601 / RFC 3339 stamps carry, in order seen.

    An offset-less stamp counts as ``"none"`` (it is read in the ingest's zone).

    Examples
    --------
    >>> lines = pl.Series(["2023-03-14T00:00:31.18+01:00 helga x", "2024-01-01T00:00:00 h y"])
    >>> _stamp_years_and_offsets(lines)
    ([2023, 2024], ['+01:00', 'none'])
    """
    years: list[int] = []
    offsets: list[str] = []
    for line in lines.head(5000).to_list():
        found = _YEAR_STAMP.match(line)
        if found is None:
            continue
        stamp = found.group(0)
        year = int(stamp[_YEAR_START.search(stamp).start() :][:4])  # type: ignore[union-attr]
        offset = _OFFSET_END.search(stamp)
        for seen, value in ((years, year), (offsets, offset.group(0) if offset else "none")):
            if value not in seen:
                seen.append(value)  # type: ignore[arg-type]
    return years, offsets


def time_inference_text(entry: dict[str, Any]) -> tuple[str, str]:
    """How an input's time stamps were turned into UTC: its zone and its year, in words.

    Examples
    --------
    >>> entry = {"tz": "Etc/UTC", "source": "lines", "start_year": 2023, "line_offsets": ["+01:00"]}
    >>> time_inference_text(entry)
    ('from the lines (+01:00)', 'from the lines (2023)')
    >>> time_inference_text({"tz": "Europe/Berlin", "source": "mtime", "start_year": 2026})
    ('Europe/Berlin', '2026 (mtime)')
    """
    tz, source, year = entry.get("tz"), entry.get("source"), entry.get("start_year")
    offsets = entry.get("line_offsets")
    if source != "lines" or not offsets:
        return str(tz), f"{year} ({source})"
    carried = [o for o in offsets if o != "none"]
    zone = f"from the lines ({', '.join(carried)})" if carried else str(tz)
    if "none" in offsets and carried:
        zone += f"; lines without an offset: {tz}"
    return zone, f"from the lines ({year})"


# an RFC 3339 stamp at the start, after an RFC 5424 "<PRI>1 " or a journal/docker prefix
_YEAR_STAMP = re.compile(rf"(?:<[0-9]{{1,3}}>(?:1 )?)?{syslog.TS_ISO}")
_YEAR_START = re.compile(r"[0-9]{4}-")
_OFFSET_END = re.compile(r"(?:Z|[+-][0-2][0-9]:?[0-5][0-9])$")


def _first_bsd_month_day(lines: pl.Series) -> tuple[int, int] | None:
    for line in lines.head(5000).to_list():
        found = syslog.year_less_month_day(line)
        if found is not None:
            return found
    return None


def queue_id_year_check(frame: pl.DataFrame) -> dict[str, Any]:
    """Compare year-less time stamps with the enqueue time coded in long queue ids."""
    sample = frame.filter(
        pl.col("queue_id").str.contains(syslog.LONG_QID_RE.pattern) & pl.col("ts_raw").str.contains("^[A-Z]")
    ).head(200)
    qids = sample.get_column("queue_id").to_list()
    tss = sample.get_column("ts").to_list()
    raws = sample.get_column("ts_raw").to_list()
    deltas: Counter[int] = Counter()
    checked = 0
    for qid, ts, raw in zip(qids, tss, raws, strict=True):
        if qid is None or ts is None or raw is None or not raw[:1].isalpha():  # dated or TAI64N
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


def record_input(
    manifest: dict[str, Any],
    inp: InputFile,
    inference: dict[str, Any],
    prior: dict[str, Any] | None,
    name: str,
    new_lines: int,
) -> None:
    """Write (or replace, in place) the manifest entry of one input read."""
    entries = list(manifest.get("inputs", []))
    # a file read again keeps its place: the manifest lists files in log order, which is
    # the order of their rows (a rotated log read again under its new name stays first)
    place = next(
        (n for n, e in enumerate(entries) if prior is not None and same_entry(e, prior)), len(entries)
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
        "skipped": stats.skipped,
    }
