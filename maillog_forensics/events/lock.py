"""One writer at a time: an advisory lock on a dataset folder (``.lock``, ``flock``).

The kernel drops the lock when its holder dies (killed, crashed, power lost), so a dead
run never blocks the next; what it left behind is rolled back by the next writer, which
holds the lock while it does so (:class:`maillog_forensics.events.store.DatasetWriter`).
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["LOCK_NAME", "DatasetBusyError", "DatasetLock"]

LOCK_NAME = ".lock"


class DatasetBusyError(OSError):
    """Another run is writing to the dataset. The message says which and how to wait."""


class DatasetLock:
    """The write lock of a dataset folder, held from :meth:`acquire` to :meth:`release`.

    Parameters
    ----------
    dataset
        The dataset folder (it must exist).
    """

    def __init__(self, dataset: Path) -> None:
        self.path = dataset / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, *, wait: bool = False) -> None:
        """Take the lock.

        Parameters
        ----------
        wait
            Block until the run holding it ends. Default: fail at once.

        Raises
        ------
        DatasetBusyError
            Another process holds the lock and ``wait`` is false.
        OSError
            The lock file cannot be created (read-only dataset, permissions).
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise DatasetBusyError(
                f"another ingest is writing to {self.path.parent}{holder}; "
                "run again when it has finished, or give --wait to wait for it"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        record = {"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the next writer in (the lock file stays: removing it would race)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None


def _holder(fd: int) -> str:
    """`` (process N, since T)`` from the lock file, or nothing when it cannot be read."""
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f" (process {int(record['pid'])}, since {record['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
