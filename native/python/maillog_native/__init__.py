"""The native ingest core of maillog-forensics (see native/README.md)."""

from ._native import Core, version

__all__ = ["Core", "version"]
