"""Shared pytest fixtures."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import settings

# CI runs the property tests with a fixed seed so a run is repeatable; locally they explore
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
