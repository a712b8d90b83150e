"""The package version, in one place for the manifest, the CLI and the package."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
