"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
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
    from maillog_forensics.cluster import cluster_client

    with cluster_client(workers=2) as client:
        yield client
