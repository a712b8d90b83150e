"""Sessionisation on a Dask cluster: one shuffle by smtpd process, the pandas code per partition.

A session is the run of lines of one smtpd process ``(host, instance, pid)``. The smtpd
lines of a dataset's part files (one Dask partition per file) are shuffled on that key,
so every process's lines — across part files, batches and midnight — meet in one
partition; each partition is put in log order and handed to the very same
:func:`maillog_forensics.tables.sessions.sessions_from_events`. The client adds postscreen's
verdicts (a small table), puts the sessions in order of their first line and gives the
columns the types the pandas path gives them: the result equals
``sessions_from_events(load_events(dataset))``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from ..events.schema import EVENT_SCHEMA
from ..events.store import DatasetError, int_mapper, read_manifest, source_ranks, window_expression
from .sessions import EVENT_COLUMNS, SESSION_COLUMNS, postscreen_verdicts, sessions_from_events

__all__ = ["load_part", "sessions_on_cluster"]

#: session columns that are categorical in the pandas path, and the event column they come from
_CATEGORICAL = {
    "host": "host",
    "instance": "instance",
    "tls_protocol": "tls_protocol",
    "tls_cipher": "tls_cipher",
    "tls_trust": "tls_trust",
    "lost_after": "stage",
}
_KEY = ["host", "instance", "pid"]
_RANK = "_file_rank"


def load_part(path: str, *, fields: list[str], rank: dict[str, int], filter: Any = None) -> pd.DataFrame:
    """One part file as pandas, typed as :func:`maillog_forensics.load_events` types it.

    Categorical columns come as plain text (partitions would each have their own
    categories); ``_file_rank`` is the input's position in the manifest (log order).

    Parameters
    ----------
    path
        A part file of the dataset.
    fields
        Event columns to read.
    rank
        Position of each input file in the manifest.
    filter
        A ``pyarrow.dataset`` expression: only the rows it keeps.
    """
    table = ds.dataset([path], schema=EVENT_SCHEMA, format="parquet").to_table(columns=fields, filter=filter)
    arrays = [
        col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col for col in table.itercolumns()
    ]
    plain = pa.Table.from_arrays(arrays, names=table.column_names)
    df: pd.DataFrame = plain.to_pandas(types_mapper=int_mapper, ignore_metadata=True)
    df[_RANK] = df["source_file"].map(rank).fillna(len(rank)).astype("int64")
    return df


def _in_log_order(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values([_RANK, "line_no"], kind="stable", ignore_index=True)


def _typed(df: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    """Columns back to the loader's types (a shuffle may hand strings back as Arrow strings)."""
    return pd.DataFrame({c: df[c].astype(t) if df[c].dtype != t else df[c] for c, t in dtypes.items()})


def _sessions_of_partition(df: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame | None:
    """The pandas sessioniser on one shuffled partition (all lines of its processes)."""
    if len(df) == 0:
        return None
    events = _in_log_order(_typed(df, dtypes))
    out = sessions_from_events(events)
    return out if len(out) else None


def _categories(files: list[str], columns: list[str], window: Any) -> dict[str, pd.Index]:
    """Categories ``load_events`` gives these columns (the dictionaries of what it reads, unified)."""
    table = ds.dataset(files, schema=EVENT_SCHEMA, format="parquet").to_table(columns=columns, filter=window)
    df = table.to_pandas(ignore_metadata=True)
    return {c: df[c].cat.categories for c in columns}


def sessions_on_cluster(
    dataset: str | os.PathLike[str],
    *,
    client: Any = None,
    scheduler: str | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    partitions: int | None = None,
) -> pd.DataFrame:
    """``sessions_from_events(load_events(dataset, start=start, end=end))``, computed on a Dask cluster.

    Parameters
    ----------
    dataset
        Dataset folder written by :func:`maillog_forensics.events`; the workers must see it
        at the same path.
    client
        A ``distributed.Client`` (see :func:`maillog_forensics.common.cluster.cluster_client`).
    scheduler
        Or the address of a running scheduler (``tcp://HOST:PORT``) to connect to for this call.
    start, end
        Only the events with ``start <= ts < end`` (UTC), as ``load_events`` takes them.
    partitions
        Partitions after the shuffle. Default: one per part file, at most four per thread.

    Returns
    -------
    pandas.DataFrame
        ``SESSION_COLUMNS``, one row per session in order of first line, the same table
        (values and types) as the pandas path.
    """
    if (client is None) == (scheduler is None):
        raise ValueError("give either a Dask client or a scheduler address")
    if client is None:
        from ..common.cluster import cluster_client

        with cluster_client(scheduler=scheduler) as own:
            return sessions_on_cluster(dataset, client=own, start=start, end=end, partitions=partitions)
    import dask
    import dask.dataframe as dd
    from dask.delayed import delayed

    root = Path(dataset).resolve()
    manifest = read_manifest(root)
    if not (root / "manifest.json").exists():
        raise DatasetError(f"{dataset} is not a maillog-forensics dataset (no manifest.json)")
    files = [str(root / f) for f in manifest.get("files", [])]
    if not files:
        return sessions_from_events(pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS}))
    rank = source_ranks(root)
    window = window_expression(start, end)
    smtpd = (ds.field("daemon") == "smtpd") & ds.field("instance").is_valid()
    if window is not None:
        smtpd = smtpd & window
    threads = max(1, sum(client.nthreads().values()))
    with dask.config.set({"dataframe.convert-string": False}):
        meta = load_part(files[0], fields=EVENT_COLUMNS, rank=rank, filter=smtpd).iloc[:0]
        dtypes = dict(meta.dtypes.items())
        parts = dd.from_map(
            load_part,
            files,
            fields=EVENT_COLUMNS,
            rank=rank,
            filter=smtpd,
            meta=meta,
            enforce_metadata=False,
        )
        n = partitions or max(1, min(len(files), 4 * threads))
        shuffled = parts.shuffle(on=_KEY, npartitions=n)
        tasks = [delayed(_sessions_of_partition)(p, dtypes) for p in shuffled.to_delayed()]
        ps_cols = ["host", "client_ip", "ts", "ps_event", "daemon", "kind", "source_file", "line_no"]
        verdicts = (ds.field("daemon") == "postscreen") & (ds.field("kind") == "postscreen_verdict")
        if window is not None:
            verdicts = verdicts & window
        ps_parts = [delayed(load_part)(f, fields=ps_cols, rank=rank, filter=verdicts) for f in files]
        done = client.gather(client.compute([*tasks, *ps_parts]))
    found = [d for d in done[: len(tasks)] if d is not None]
    if not found:
        return sessions_from_events(pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS}))
    out = pd.concat(found, ignore_index=True)
    # order of first line: the input's rank, then the line number ("file:line")
    first = out["first_line"].astype(object).str.rpartition(":")
    file_rank = first[0].map(rank).fillna(len(rank)).to_numpy(dtype=np.int64)
    line_no = first[2].astype(np.int64).to_numpy()
    out = out.iloc[np.lexsort((line_no, file_rank))].reset_index(drop=True)
    cats = _categories(files, sorted(set(_CATEGORICAL.values())), window)
    for col, source in _CATEGORICAL.items():
        out[col] = out[col].astype(pd.CategoricalDtype(cats[source]))
    ps = _in_log_order(pd.concat([d for d in done[len(tasks) :]], ignore_index=True))
    out["postscreen_verdict"] = postscreen_verdicts(ps, out)
    return pd.DataFrame(out[SESSION_COLUMNS])
