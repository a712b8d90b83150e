"""Tables computed once and shared by the notebooks of one report.

Each notebook of a report runs in its own kernel, and three of them need the same sessions
and authentication attempts; on a big case building those takes most of each notebook's
time. ``run_report`` therefore gives the notebooks a cache folder: the first kernel that
builds a table stores it there, the next ones read it.

A stored table is named by a digest of everything it depends on: the dataset's manifest
(so a dataset that grew gets new tables), the case's options and window, and the source
code of this package (so an upgrade never reads tables an older version built). Files are
pickles, the only format that gives pandas frames back exactly (lists in cells, categories,
nullable integers); a pickle can run code when loaded, so each file carries an HMAC made
with the dataset's private key (``secrets/hmac.key``, mode 0600) and is loaded only if the
HMAC matches. Files are mode 0600: tables hold user names and password fingerprints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["TableCache"]

_MAC_SIZE = hashlib.sha256().digest_size
_BLOCK = 1 << 20


class TableCache:
    """A folder of signed, pickled tables keyed by what they were computed from.

    Parameters
    ----------
    folder
        Where the tables go (created with mode 0700 if missing).
    key
        The dataset's HMAC key: files are signed with it and read only if the HMAC matches.
    depends_on
        What every table of this cache depends on (manifest, options, window); JSON-able.

    Examples
    --------
    >>> import tempfile
    >>> cache = TableCache(tempfile.mkdtemp(), key=b"k" * 32, depends_on={"window": None})
    >>> calls = []
    >>> build = lambda: calls.append(1) or pd.DataFrame({"a": [1, 2]})
    >>> cache.get_or_build("t", build).equals(cache.get_or_build("t", build))
    True
    >>> len(calls)
    1
    """

    def __init__(self, folder: str | os.PathLike[str], *, key: bytes, depends_on: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self._key = key
        text = json.dumps({"inputs": depends_on, "code": _code_digest()}, sort_keys=True, default=str)
        self._digest = hashlib.sha256(text.encode()).hexdigest()[:24]

    def path(self, name: str) -> Path:
        """The file a table of this name is kept in."""
        return self.folder / f"{name}-{self._digest}.pkl"

    def get_or_build(self, name: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """The stored table ``name`` if there is a valid one, else ``build()`` (then stored)."""
        path = self.path(name)
        stored = self._read(path)
        if stored is not None:
            return stored
        frame = build()
        self._write(path, frame)
        return frame

    def _read(self, path: Path) -> pd.DataFrame | None:
        try:
            with path.open("rb") as fh:
                mac = fh.read(_MAC_SIZE)
                signer = hmac.new(self._key, digestmod=hashlib.sha256)
                for block in iter(lambda: fh.read(_BLOCK), b""):
                    signer.update(block)
                if not hmac.compare_digest(mac, signer.digest()):
                    return None  # not written by us with this key: never unpickled
                fh.seek(_MAC_SIZE)
                frame = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None
        return frame if isinstance(frame, pd.DataFrame) else None

    def _write(self, path: Path, frame: pd.DataFrame) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"\0" * _MAC_SIZE)  # the HMAC goes here once the body is written
                signed = _SigningWriter(fh, hmac.new(self._key, digestmod=hashlib.sha256))
                pickle.dump(frame, signed, protocol=pickle.HIGHEST_PROTOCOL)
                fh.seek(0)
                fh.write(signed.signer.digest())
            os.replace(tmp, path)  # readers see a whole file or none
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            tmp.unlink(missing_ok=True)  # a table that cannot be stored is built again next time


class _SigningWriter:
    """A binary file wrapper that feeds everything written through an HMAC."""

    def __init__(self, fh: IO[bytes], signer: hmac.HMAC) -> None:
        self.fh = fh
        self.signer = signer

    def write(self, data: bytes) -> int:
        self.signer.update(data)
        return self.fh.write(data)


@cache
def _code_digest() -> str:
    """SHA-256 over this package's source files (a new version never reads old tables)."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()
