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
with a key derived from the dataset's private key (``secrets/hmac.key``, mode 0600) and is
loaded only if the HMAC matches. The folder must be this user's alone (mode 0700) and the
files are mode 0600: tables hold user names and password fingerprints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["TableCache"]

_MAC_SIZE = hashlib.sha256().digest_size


class TableCache:
    """A folder of signed, pickled tables keyed by what they were computed from.

    Parameters
    ----------
    folder
        Where the tables go: created with mode 0700 if missing. An existing folder is used
        only if it is a real directory of this user that nobody else can write or read
        (otherwise every table is simply built).
    key
        The dataset's HMAC key: files are signed with a key derived from it and read only
        if the HMAC matches.
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
        # a key of its own, so a cache signature never doubles as a password fingerprint
        self._key = hmac.new(key, b"maillog-forensics table cache", hashlib.sha256).digest()
        text = json.dumps({"inputs": depends_on, "code": _code_digest()}, sort_keys=True, default=str)
        self._digest = hashlib.sha256(text.encode()).hexdigest()[:24]

    def path(self, name: str) -> Path:
        """The file a table of this name is kept in."""
        return self.folder / f"{name}-{self._digest}.pkl"

    def get_or_build(self, name: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """The stored table ``name`` if there is a valid one, else ``build()`` (then stored)."""
        if not self._private_folder():
            return build()
        path = self.path(name)
        stored = self._read(path)
        if stored is not None:
            return stored
        frame = build()
        self._write(path, frame)
        return frame

    def _private_folder(self) -> bool:
        """Create the folder (0700), or check an existing one is ours alone and no symlink."""
        try:
            self.folder.mkdir(parents=True, mode=0o700)
        except FileExistsError:
            pass
        except OSError:
            return False
        try:
            st = os.lstat(self.folder)
        except OSError:
            return False
        return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077

    def _read(self, path: Path) -> pd.DataFrame | None:
        try:
            # one read: the bytes checked are the bytes loaded
            data = path.read_bytes()
        except OSError:
            return None
        mac, body = data[:_MAC_SIZE], memoryview(data)[_MAC_SIZE:]
        if not hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest()):
            return None  # not written by us with this key: never unpickled
        try:
            frame = pickle.loads(body)
        except Exception:  # signed by us, but written by other library versions: build again
            return None
        return frame if isinstance(frame, pd.DataFrame) else None

    def _write(self, path: Path, frame: pd.DataFrame) -> None:
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".tmp")  # 0600
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"\0" * _MAC_SIZE)  # the HMAC goes here once the body is written
                signed = _SigningWriter(fh, hmac.new(self._key, digestmod=hashlib.sha256))
                pickle.dump(frame, signed, protocol=pickle.HIGHEST_PROTOCOL)
                fh.seek(0)
                fh.write(signed.signer.digest())
            os.replace(tmp, path)  # readers see a whole file or none
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)  # a table that cannot be stored is built again


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
    """SHA-256 over this package's source and the versions of what pickles the tables."""
    import numpy
    import pyarrow

    digest = hashlib.sha256()
    versions = (sys.version, pd.__version__, numpy.__version__, pyarrow.__version__)
    digest.update(repr(versions).encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()
