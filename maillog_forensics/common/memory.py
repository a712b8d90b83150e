"""Give memory that freed frames leave behind back to the operating system.

Arrow's allocator (mimalloc) and glibc's malloc keep freed memory for reuse: after a large
Parquet scan and its conversion to pandas, the process can hold twice the memory its live
frames need, and the next analysis step's peak then starts from there. The report calls
:func:`release_unused_memory` after each load and each table it builds.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import pyarrow as pa

__all__ = ["release_unused_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:  # the C library this process already runs on; glibc only (not musl, not macOS)
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_unused_memory() -> None:
    """Return freed memory of Arrow's pool and of the C heap to the operating system.

    Cheap when there is little to return; a no-op where the C library has no
    ``malloc_trim``.
    """
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
