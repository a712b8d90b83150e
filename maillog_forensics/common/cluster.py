"""A Dask ``distributed`` client: an existing scheduler's, or a local cluster's.

Dask is an optional extra (``pip install 'maillog-forensics[dask]'``); it is imported only
when a cluster is asked for, and its absence is reported in one clear sentence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["DaskMissingError", "ThreadPoolClient", "cluster_client", "require_dask"]

INSTALL_HINT = "pip install 'maillog-forensics[dask]'"


class ThreadPoolClient:
    """The three calls of a ``distributed.Client`` that ingest uses, on a local thread pool.

    ``dask_ingest.ingest_on_cluster`` pipelines batches: the reader thread reads and guesses
    the year ahead, parse tasks run concurrently, and the year chain is checked in input order
    (a batch parsed with a wrong guess is parsed again). On one machine the tasks can run
    in threads: polars releases the GIL, so two parse tasks keep two cores busy. No Dask is
    needed for this.
    """

    def __init__(self, threads: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        if threads < 1:
            raise ValueError(f"the number of parse threads must be at least 1, not {threads}")
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="parse")

    def nthreads(self) -> dict[str, int]:
        return {"local": self.threads}

    def scatter(self, data: Any, *, hash: bool = False) -> Any:
        return data  # same process: nothing to send

    def submit(self, fn: Any, *args: Any, pure: bool = False, **kwargs: Any) -> Any:
        return self._pool.submit(fn, *args, **kwargs)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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
