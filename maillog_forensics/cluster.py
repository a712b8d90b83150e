"""A Dask ``distributed`` client: an existing scheduler's, or a local cluster's.

Dask is an optional extra (``pip install 'maillog-forensics[dask]'``); it is imported only
when a cluster is asked for, and its absence is reported in one clear sentence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["DaskMissingError", "cluster_client", "require_dask"]

INSTALL_HINT = "pip install 'maillog-forensics[dask]'"


class DaskMissingError(RuntimeError):
    """Dask (with ``distributed``) is not installed; the message says how to get it."""


def require_dask() -> None:
    """Raise :class:`DaskMissingError` unless ``dask.dataframe`` and ``distributed`` import."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise DaskMissingError(
            f"running on a Dask cluster needs the optional Dask extra ({INSTALL_HINT}): {exc}"
        ) from exc


@contextlib.contextmanager
def cluster_client(
    *, scheduler: str | None = None, workers: int | None = None, threads_per_worker: int = 1
) -> Iterator[Any]:
    """A ``distributed.Client`` for the duration of a ``with`` block.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://HOST:PORT``): connect to it; the cluster
        is left running afterwards.
    workers
        Start a ``distributed.LocalCluster`` of this many worker processes instead (closed
        at the end of the block).
    threads_per_worker
        Threads of each local worker (polars parallelises inside a task already).

    Yields
    ------
    distributed.Client
    """
    if (scheduler is None) == (workers is None):
        raise ValueError("give either a scheduler address or a number of local Dask workers, not both")
    if workers is not None and workers < 1:
        raise ValueError(f"the number of Dask workers must be at least 1, not {workers}")
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            dashboard_address=":0",  # any free port: never collide with another cluster
        ) as local,
        Client(local) as client,  # type: ignore[no-untyped-call]
    ):
        yield client
