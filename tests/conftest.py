"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import settings

# CI runs the property tests with a fixed seed so a run is repeatable; locally they explore
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """A real ``distributed.LocalCluster`` (2 worker processes, 1 thread each) for the session."""
    pytest.importorskip("distributed")
    from maillog_forensics.common.cluster import cluster_client

    with cluster_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def two_file_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample log cut in two files and ingested as one dataset (year 2026, UTC)."""
    import maillog_forensics as mf

    folder = tmp_path_factory.mktemp("two-files")
    lines = (Path(__file__).parents[1] / "data" / "sample" / "mail.log").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    (folder / "a.log").write_text("".join(lines[:half]))
    (folder / "b.log").write_text("".join(lines[half:]))
    mf.ingest([str(folder / "a.log"), str(folder / "b.log")], folder / "ds", tz="UTC", year=2026)
    return folder / "ds"
