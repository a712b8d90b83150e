"""Where the shared corpus lives, and small helpers to read it (tests only)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MAILLOG_CORPUS", REPO.parent / "shared" / "corpus"))


def corpus_path(*parts: str) -> Path:
    """A file of the shared corpus; the test is skipped when the corpus is not beside the repo."""
    p = CORPUS.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared corpus not found at {CORPUS} (set MAILLOG_CORPUS)")
    return p


def read_lines(path: Path) -> list[str]:
    """Lines of a (possibly gzipped) text file, split like the loader (``\\n`` only)."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    lines = raw.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def jsonl(path: Path) -> Iterator[dict]:
    with open(path) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
