"""The Parquet dataset on disk: hive-partitioned by date, atomic, with a manifest.

Layout of a dataset folder::

    manifest.json                      what is in it (the only index readers trust)
    events/date=2026-11-27/part-*.parquet
    events/date=none/part-*.parquet    lines without a time stamp
    secrets/part-*.parquet             credentials cut out of lines (mode 0600)

One run writes at a time (``.lock``, see :mod:`.lock`). A run writes its part files
under its own ``.staging-<run>/`` (outside ``events/``; generic Parquet readers skip
dot folders), moves them into place, and only then replaces ``manifest.json``
(``os.replace`` is atomic). Readers list files from the manifest, so a run killed at any
point leaves the previous dataset exactly as it was; its leftovers (part files moved
into ``events/`` but never listed, staging folders, unfinished manifests) are rolled
back by the next writer, under the lock, before it reads the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..common.memory import release_unused_memory
from .lock import DatasetBusyError, DatasetLock
from .schema import EVENT_SCHEMA, EventRows

__all__ = [
    "DatasetError",
    "DatasetWriter",
    "count_events",
    "create_key",
    "event_lines",
    "event_times",
    "int_mapper",
    "iter_events",
    "load_events",
    "load_secrets",
    "read_manifest",
    "roll_back",
    "shared_source_names",
    "source_names",
    "source_ranks",
    "window_expression",
    "write_part",
]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
SECRETS_SCHEMA = pa.schema(
    [("source_file", pa.string()), ("line_no", pa.int64()), ("kind", pa.string()), ("secret", pa.string())]
)


class DatasetError(Exception):
    """The dataset folder cannot be read or written. The message says why."""


def read_manifest(dataset: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the manifest of a dataset (an empty one if the folder has none yet)."""
    path = Path(dataset) / MANIFEST
    if not path.exists():
        return {"format_version": FORMAT_VERSION, "inputs": [], "files": [], "secret_files": [], "runs": []}
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    return data


def write_part(
    staging: Path,
    run_id: str,
    seq: int,
    frame: pl.DataFrame,
    secrets: Sequence[tuple[str, int, str, str]] = (),
) -> tuple[list[str], list[str]]:
    """Write one parsed batch (split by UTC date) and its secrets into a run's staging folder.

    Parameters
    ----------
    staging
        The run's staging folder (:attr:`DatasetWriter.staging`).
    run_id
        The run's id: part files are named ``part-<run_id>-<seq>.parquet``.
    seq
        Number of the batch within the run.
    frame
        Parsed events (``parse.POLARS_SCHEMA``).
    secrets
        ``(source_file, line_no, kind, secret)`` taken out of the batch.

    Returns
    -------
    tuple of list of str
        Event part files and secret part files written, relative to the dataset folder.
    """
    files: list[str] = []
    secret_files: list[str] = []
    if frame.height:
        for date, part in _by_date(frame):
            rel = f"events/date={date}/part-{run_id}-{seq:05d}.parquet"
            path = _staged(staging, rel)
            pq.write_table(
                _event_table(part),
                path,
                compression="zstd",
                compression_level=1,
                row_group_size=256 * 1024,
                use_dictionary=_CATEGORICAL,
                write_statistics=_FILTERED,
            )
            files.append(rel)
    if secrets:
        rel = f"secrets/part-{run_id}-{seq:05d}.parquet"
        sec = pa.Table.from_pylist(
            [dict(zip(SECRETS_SCHEMA.names, s, strict=True)) for s in secrets], schema=SECRETS_SCHEMA
        )
        path = _staged(staging, rel, private=True)
        pq.write_table(sec, path, compression="zstd")
        secret_files.append(rel)
    return files, secret_files


#: columns stored dictionary-encoded: readers then get them as dictionaries without
#: re-encoding (4x faster loads than plain strings cast at read time)
_CATEGORICAL = [f.name for f in EVENT_SCHEMA if pa.types.is_dictionary(f.type)]
#: the only columns readers filter on (ts windows, input-order ranges, row pushdown, the
#: Dask sessioniser's instance test); statistics of the other ~90 columns cost write time
#: and are never read
_FILTERED = ["ts", "source_file", "line_no", "kind", "daemon", "queue_id", "instance"]


def _by_date(frame: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """``(date, rows)`` of a batch by UTC date (``none``: no time stamp), in input order."""
    dates = frame.get_column("ts").dt.date().cast(pl.String).fill_null("none")
    if dates.n_unique() == 1:  # the usual batch: no copy
        yield str(dates[0]), frame
        return
    dated = frame.with_columns(dates.alias("_date"))
    for (date,), part in dated.partition_by("_date", as_dict=True, maintain_order=True).items():
        yield str(date), part.drop("_date")


def _event_table(frame: pl.DataFrame) -> pa.Table:
    """The Arrow table of a parsed batch in :data:`EVENT_SCHEMA` (categoricals encoded).

    Polars hands strings over as ``string_view`` without copying; each becomes a plain
    ``string`` once here, and the categorical ones a dictionary of it.
    """
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    arrays = []
    for fld in EVENT_SCHEMA:
        col = table.column(fld.name)
        if pa.types.is_dictionary(fld.type):
            col = col.cast(fld.type.value_type).dictionary_encode()
        elif col.type != fld.type:
            col = col.cast(fld.type)
        arrays.append(col)
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def _staged(staging: Path, rel: str, *, private: bool = False) -> Path:
    path = staging / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        path.touch(mode=0o600)
    return path


@dataclass
class DatasetWriter:
    """Writes one ingest run into a dataset, all or nothing, one run at a time.

    Creating it takes the dataset's write lock (:class:`.lock.DatasetLock`; with ``wait``
    it waits for a run holding it, else fails with :class:`.lock.DatasetBusyError`), rolls
    back what a dead run left and reads the manifest (:attr:`manifest`) under that lock.
    Use :meth:`write` for each parsed batch, then :meth:`commit` with the updated
    manifest (or :meth:`abort`); both release the lock.
    """

    dataset: Path
    run_id: str = field(
        default_factory=lambda: datetime.now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    )
    compression: str = "zstd"
    wait: bool = False
    manifest: dict[str, Any] = field(default_factory=dict)
    _seq: int = 0
    _files: list[str] = field(default_factory=list)
    _secret_files: list[str] = field(default_factory=list)
    _lock: DatasetLock | None = None

    def __post_init__(self) -> None:
        try:
            # a new dataset is owner-only (logs are personal data); an existing one keeps
            # the mode its owner gave it, and every file a run adds is 0600
            self.dataset.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock = DatasetLock(self.dataset)
            self._lock.acquire(wait=self.wait)
        except DatasetBusyError:
            raise
        except OSError as exc:
            raise DatasetError(f"cannot write to {self.dataset}: {exc.strerror or exc}") from exc
        try:
            self.manifest = read_manifest(self.dataset)
            roll_back(self.dataset, self.manifest)
            self.staging.mkdir(mode=0o700)
        except BaseException:
            self._lock.release()
            raise

    @property
    def staging(self) -> Path:
        """Folder this run writes into before committing (its own; generic Parquet readers
        skip it, as every name starting with a dot)."""
        return self.dataset / f"{STAGING_PREFIX}{self.run_id}"

    def write(self, frame: pl.DataFrame, secrets: Sequence[tuple[str, int, str, str]] = ()) -> None:
        """Stage one parsed batch (split by UTC date) and its secrets."""
        files, secret_files = write_part(self.staging, self.run_id, self._seq, frame, secrets)
        self.adopt(files, secret_files)

    def adopt(self, files: Sequence[str], secret_files: Sequence[str]) -> None:
        """Take part files staged by :func:`write_part` elsewhere (a cluster worker) into this run.

        Parameters
        ----------
        files, secret_files
            Paths relative to the dataset, as :func:`write_part` returns them, in batch order.
        """
        self._files.extend(files)
        self._secret_files.extend(secret_files)
        self._seq += 1

    def commit(self, manifest: dict[str, Any]) -> None:
        """Move staged files into place, then atomically replace the manifest.

        Until ``manifest.json`` is replaced the run has not happened: a failure before
        (a full disk at the manifest write) removes the files already moved, and a kill
        leaves them to the next writer's :func:`roll_back`. The lock is released either way.
        """
        assert self._lock is not None and self._lock.held, "commit after commit or abort"
        manifest = dict(manifest)
        manifest["files"] = list(manifest.get("files", [])) + self._files
        manifest["secret_files"] = list(manifest.get("secret_files", [])) + self._secret_files
        try:
            try:
                create_key(self.dataset)
                for rel in self._files + self._secret_files:
                    dest = self.dataset / rel
                    _make_dirs(dest.parent, self.dataset)
                    os.chmod(self.staging / rel, 0o600)  # logs are personal data: owner-only
                    os.replace(self.staging / rel, dest)
                if (self.dataset / "secrets").is_dir():
                    os.chmod(self.dataset / "secrets", 0o700)  # whatever made it: clear credentials
                tmp = self.dataset / f"{MANIFEST_TMP_PREFIX}{self.run_id}.json"
                _write_durably(tmp, json.dumps(manifest, indent=2, default=str).encode())
                os.replace(tmp, self.dataset / MANIFEST)
            except BaseException:
                roll_back(self.dataset, self.manifest)
                raise
            _fsync_dir(self.dataset)
            self.manifest = manifest
            shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self._lock.release()

    def abort(self) -> None:
        """Drop everything this run staged and release the lock."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            self._lock.release()


STAGING_PREFIX = ".staging-"
#: the dataset's HMAC key (password fingerprints, signed caches): made by the first writer
KEY_FILE = "secrets/hmac.key"


def create_key(dataset: Path) -> bool:
    """Give a dataset its HMAC key (``secrets/hmac.key``, mode 0600) if it has none.

    Only writers call it (under the dataset lock): readers never create anything in a
    dataset (see :func:`maillog_forensics.tables.credentials.load_or_create_key`).

    Returns
    -------
    bool
        Whether a key was created.
    """
    path = dataset / KEY_FILE
    if path.exists():
        return False
    _make_dirs(path.parent, dataset)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        fh.write(os.urandom(32).hex())
        fh.flush()
        os.fsync(fh.fileno())
    return True


MANIFEST_TMP_PREFIX = ".manifest-"


def roll_back(dataset: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Remove what runs that never committed left in a dataset (call under its lock).

    That is: staging folders, unfinished manifests, and part files under ``events/`` and
    ``secrets/`` that ``manifest`` does not list (moved into place by a run killed before
    its manifest was written: generic Parquet readers would count them).

    Returns
    -------
    list of str
        What was removed, relative to the dataset folder.
    """
    listed = set(manifest.get("files", [])) | set(manifest.get("secret_files", []))
    removed: list[str] = []
    for p in [*dataset.glob(f"{STAGING_PREFIX}*"), *dataset.glob(f"{MANIFEST_TMP_PREFIX}*.json")]:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p.name)
    for sub in ("events", "secrets"):
        for f in (dataset / sub).rglob("*.parquet") if (dataset / sub).exists() else []:
            rel = f.relative_to(dataset).as_posix()
            if rel not in listed:
                f.unlink(missing_ok=True)
                removed.append(rel)
    return removed


def _make_dirs(folder: Path, dataset: Path) -> None:
    """Create ``folder`` (and parents up to ``dataset``) owner-only."""
    if folder.is_dir():
        return
    _make_dirs(folder.parent, dataset)
    folder.mkdir(mode=0o700, exist_ok=True)


def _write_durably(path: Path, data: bytes) -> None:
    """Write a file owner-only and flush it to the disk before it is renamed into place."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not every file system can: then skip)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _event_dataset(dataset: Path) -> tuple[ds.Dataset, dict[str, Any]]:
    manifest = read_manifest(dataset)
    if not (dataset / MANIFEST).exists():
        raise DatasetError(f"{dataset} is not a maillog-forensics dataset (no {MANIFEST})")
    files = [str(dataset / f) for f in manifest.get("files", [])]
    return (
        ds.dataset(
            files,
            schema=EVENT_SCHEMA,
            format="parquet",
        ),
        manifest,
    )


def int_mapper(t: pa.DataType) -> Any:
    """pandas nullable dtype for an Arrow integer type (``types_mapper`` of ``to_pandas``)."""
    mapping = {
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
    }
    return mapping.get(t)


def load_events(
    dataset: str | os.PathLike[str],
    *,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    columns: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    rows: EventRows | None = None,
) -> pd.DataFrame:
    """Load events from a dataset as a pandas DataFrame.

    Parameters
    ----------
    dataset
        Dataset folder written by :func:`maillog_forensics.events`.
    start, end
        Keep events with ``start <= ts < end`` (UTC; strings are parsed by pandas). The
        filter is pushed into the Parquet scan.
    columns
        Only these columns (projection pushed into the scan). Default: all.
    kinds
        Only these line kinds.
    rows
        Only the rows an analysis step reads (``sessions.EVENT_ROWS`` and the like);
        pushed into the scan like ``kinds``.

    Returns
    -------
    pandas.DataFrame
        One row per input line, in input order (``source_file`` order, then ``line_no``);
        low-cardinality strings are ``category``, counts nullable integers, ``ts`` is
        ``datetime64[us, UTC]``.
    """
    path = Path(dataset)
    dset, _ = _event_dataset(path)
    return _read(dset, source_ranks(path), _filter(start, end, kinds, rows), columns)


def count_events(
    dataset: str | os.PathLike[str],
    *,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
) -> int:
    """How many events ``load_events(dataset, start=start, end=end)`` would give.

    Without a window the Parquet footers answer; with one, only ``ts`` is read.
    """
    dset, _ = _event_dataset(Path(dataset))
    expr = window_expression(start, end)
    return int(dset.count_rows() if expr is None else dset.count_rows(filter=expr))


def event_times(
    dataset: str | os.PathLike[str], lines: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], pd.Timestamp]:
    """The time stamps of some lines of a dataset, by ``(source_file, line_no)``.

    Only the ``ts``, ``source_file`` and ``line_no`` of rows with those line numbers are
    read (the filter is pushed into the scan). Lines without a time stamp, or not in the
    dataset, are left out. A path ingested with two contents has two rows per line
    number: the earlier time is kept.
    """
    rows = event_lines(dataset, lines, columns=["ts"])
    rows = rows[rows["ts"].notna()]
    times: dict[tuple[str, int], pd.Timestamp] = {}
    for f, n, ts in zip(rows["source_file"].astype(object), rows["line_no"], rows["ts"], strict=True):
        key = (str(f), int(n))
        if key not in times or ts < times[key]:
            times[key] = pd.Timestamp(ts)
    return times


def event_lines(
    dataset: str | os.PathLike[str], lines: Iterable[tuple[str, int]], *, columns: Sequence[str]
) -> pd.DataFrame:
    """The events of some lines of a dataset, by ``(source_file, line_no)``.

    Only rows with those line numbers are read (the filter is pushed into the scan); lines
    not in the dataset are left out. Rows come in input order, with ``source_file`` and
    ``line_no`` among the columns whatever ``columns`` says.
    """
    wanted = set(lines)
    cols = list(dict.fromkeys([*columns, "source_file", "line_no"]))
    if not wanted:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    dataset = Path(dataset)
    dset, _ = _event_dataset(dataset)
    numbers = pa.array(sorted({n for _, n in wanted}), type=pa.int64())
    frame = _read(dset, source_ranks(dataset), ds.field("line_no").isin(numbers), cols)
    keep = [
        (f, n) in wanted for f, n in zip(frame["source_file"].astype(object), frame["line_no"], strict=True)
    ]
    return frame.loc[keep].reset_index(drop=True)


def iter_events(
    dataset: str | os.PathLike[str],
    *,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    columns: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    chunk_lines: int = 1_000_000,
) -> Iterator[pd.DataFrame]:
    """:func:`load_events` in pieces, for datasets larger than memory.

    Yields frames of at most ``chunk_lines`` consecutive lines of one input each, in input
    order; together they hold the rows ``load_events`` gives with the same arguments (each
    piece typed the same way, categories per piece). Each piece is one Parquet scan: the
    line-number range skips the part files outside it by their statistics.
    """
    if chunk_lines < 1:
        raise ValueError(f"chunk_lines must be at least 1, not {chunk_lines}")
    path = Path(dataset)
    dset, _ = _event_dataset(path)
    groups = _source_groups(path)
    ranks = _ranks(groups)
    base = _filter(start, end, kinds, None)
    # the line numbers each input has in the dataset (not the manifest's line count: a path
    # re-read after rotation or copytruncate holds the lines of both files)
    seen = dset.to_table(columns=["source_file", "line_no"], filter=base)
    last_line: dict[str, int] = {}
    for chunk_files, chunk_lines_no in zip(
        seen.column("source_file").chunks, seen.column("line_no").chunks, strict=True
    ):
        files = chunk_files.cast(pa.string()) if pa.types.is_dictionary(chunk_files.type) else chunk_files
        top = pa.table({"f": files, "n": chunk_lines_no}).group_by("f").aggregate([("n", "max")])
        for f, n in zip(top.column("f").to_pylist(), top.column("n_max").to_pylist(), strict=True):
            last_line[f] = max(n, last_line.get(f, 0))
    del seen
    yielded = False
    for group in groups:  # one file: its names share the line numbers
        top = max(last_line.get(name, 0) for name in group)
        for first in range(1, top + 1, chunk_lines):
            piece = (
                ds.field("source_file").isin(pa.array(group, type=pa.string()))
                & (ds.field("line_no") >= first)
                & (ds.field("line_no") < first + chunk_lines)
            )
            df = _read(dset, ranks, piece if base is None else base & piece, columns)
            if len(df):
                yielded = True
                yield df
    # rows of an input the manifest does not list (a damaged manifest): never lose them;
    # with no row at all, one empty frame still says which columns there are
    stray = ~ds.field("source_file").isin(pa.array(list(ranks), type=pa.string()))
    df = _read(dset, ranks, stray if base is None else base & stray, columns)
    if len(df) or not yielded:
        yield df


def _filter(
    start: datetime | str | None,
    end: datetime | str | None,
    kinds: Sequence[str] | None,
    rows: EventRows | None,
) -> ds.Expression | None:
    expr = window_expression(start, end)
    if kinds is not None:
        cond = ds.field("kind").isin(pa.array(list(kinds), type=pa.string()))
        expr = cond if expr is None else expr & cond
    if rows is not None:
        cond = _rows_expression(rows)
        expr = cond if expr is None else expr & cond
    return expr


def _read(
    dset: ds.Dataset, ranks: Mapping[str, int], expr: ds.Expression | None, columns: Sequence[str] | None
) -> pd.DataFrame:
    """Scan with filter and projection; rows in input order, typed for pandas."""
    # source_file and line_no are read in any case: they give the input order
    cols = None if columns is None else list(dict.fromkeys([*columns, "source_file", "line_no"]))
    table = dset.to_table(columns=cols, filter=expr)
    table = _in_input_order(table, ranks)
    # self_destruct frees each Arrow column once converted: the peak stays near one frame
    df: pd.DataFrame = table.to_pandas(
        types_mapper=int_mapper, ignore_metadata=True, self_destruct=True, split_blocks=True
    )
    del table
    release_unused_memory()  # the scan's buffers: they would raise the next step's peak
    if columns is not None:
        df = df.drop(columns=[c for c in df.columns if c not in columns])
    return df


def window_expression(start: datetime | str | None, end: datetime | str | None) -> ds.Expression | None:
    """The Parquet filter ``start <= ts < end`` (UTC; strings parsed by pandas), or ``None``."""
    expr = None
    for bound, op in ((start, pc.greater_equal), (end, pc.less)):
        if bound is not None:
            ts = pd.Timestamp(bound)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            cond = op(ds.field("ts"), pa.scalar(ts.to_pydatetime(), type=pa.timestamp("us", tz="UTC")))
            expr = cond if expr is None else expr & cond
    return expr


def _rows_expression(rows: EventRows) -> ds.Expression:
    # isin is False (not null) for a null daemon or kind; Kleene "or" keeps the rest
    cond = ds.field("daemon").isin(pa.array(rows.daemons, type=pa.string())) | ds.field("kind").isin(
        pa.array(rows.kinds, type=pa.string())
    )
    if rows.queue_id:
        cond = cond | ds.field("queue_id").is_valid()
    return cond


def _in_input_order(table: pa.Table, source_ranks: Mapping[str, int]) -> pa.Table:
    """Rows in input order (the place of their ``source_file`` in the manifest, then
    ``line_no``); names the manifest does not know come last.

    Part files are usually read in that order already: then nothing is copied.
    """
    if table.num_rows < 2:
        return table
    known = pa.array(list(source_ranks), type=pa.string())
    unknown = max(source_ranks.values(), default=-1) + 1
    place = pa.array([*source_ranks.values(), unknown], type=pa.int64())

    def rank_of(names: pa.Array) -> pa.Array:
        return pc.take(place, pc.fill_null(pc.index_in(names.cast(pa.string()), value_set=known), len(known)))

    ranks = []
    for chunk in table.column("source_file").chunks:
        if pa.types.is_dictionary(chunk.type):  # rank the few distinct names, not every row
            ranks.append(pc.fill_null(pc.take(rank_of(chunk.dictionary), chunk.indices), unknown).to_numpy())
        else:
            ranks.append(rank_of(chunk).to_numpy())
    rank = np.concatenate(ranks).astype(np.int64) if ranks else np.zeros(0, dtype=np.int64)
    line_no = table.column("line_no").to_numpy().astype(np.int64)
    if len(rank) and np.all(np.diff(rank) >= 0):
        same = np.diff(rank) == 0
        if np.all(np.diff(line_no)[same] >= 0):
            return table
    order = np.lexsort((line_no, rank))
    return table.take(pa.array(order))


def source_names(entry: Mapping[str, Any]) -> list[str]:
    """The ``source_file`` names that rows of a manifest input carry, oldest first.

    Rows are named after the path they were read from. An input that continues an earlier
    read (a rotated log read again under its new name) also covers the rows of that read,
    named after its path then; a new file at a path that already names rows of another
    file gets ``PATH#2`` (``#3``, ...), so ``(source_file, line_no)`` names one line.
    Manifests written before ``source_files`` was recorded list the earlier paths in
    ``also_known_as``.
    """
    names = entry.get("source_files")
    if names is None:
        names = [*entry.get("also_known_as", []), entry["path"]]
    return [str(n) for n in names]


def shared_source_names(manifest: Mapping[str, Any]) -> list[str]:
    """``source_file`` names that rows of two different files carry (sorted).

    Ingest gives a new file at a path read before a name of its own (``PATH#2``); datasets
    written before it did can hold both files' rows under one name, so a line number there
    names two lines.
    """
    owner: dict[str, int] = {}
    shared: set[str] = set()
    for n, entry in enumerate(manifest.get("inputs", [])):
        for name in source_names(entry):
            if owner.setdefault(name, n) != n:
                shared.add(name)
    return sorted(shared)


def _source_groups(dataset: Path) -> list[list[str]]:
    """Row names (``source_file``) in log order, grouped by file: the names of one file
    (its path, then the path it was read under after a rotation) share its place, and its
    rows are ordered by line number across them. A name listed under several files
    (datasets written before names were made unique) takes the place of its last listing."""
    last: dict[str, int] = {}
    inputs = read_manifest(dataset).get("inputs", [])
    for n, entry in enumerate(inputs):
        for name in source_names(entry):
            last[name] = n
    groups: list[list[str]] = [[] for _ in inputs]
    for name, n in last.items():
        groups[n].append(name)
    return [g for g in groups if g]


def source_ranks(dataset: Path) -> dict[str, int]:
    """Each row name's place in log order (:func:`_source_groups`)."""
    return _ranks(_source_groups(dataset))


def _ranks(groups: list[list[str]]) -> dict[str, int]:
    return {name: n for n, group in enumerate(groups) for name in group}


def load_secrets(dataset: str | os.PathLike[str]) -> pd.DataFrame:
    """The credential side table: ``source_file, line_no, kind, secret`` (clear text!).

    Only :mod:`maillog_forensics.tables.auth` should read it; nothing prints it by default.
    """
    path = Path(dataset)
    manifest = read_manifest(path)
    files = [str(path / f) for f in manifest.get("secret_files", [])]
    if not files:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in SECRETS_SCHEMA.names})
    table = ds.dataset(files, schema=SECRETS_SCHEMA, format="parquet").to_table()
    frame: pd.DataFrame = table.to_pandas()
    return frame
