"""Today's modules under the names they had before the stage sub-packages.

``import maillog_forensics.store`` (and the other flat names the README and users' scripts
know) gives the module now at ``maillog_forensics.events.store``: the same module object,
imported when first asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "install"]

#: old module name (under ``maillog_forensics.``) → its home now
MOVED: dict[str, str] = {
    "attempt_stats": "tables.attempt_stats",
    "auth": "tables.auth",
    "catalog": "events.catalog",
    "cluster": "common.cluster",
    "credentials": "tables.credentials",
    "dask_ingest": "events.pipeline",
    "dask_sessions": "tables.dask_sessions",
    "detect": "detection.detect",
    "explain": "detection.explain",
    "export": "report.export",
    "fingerprint": "tables.fingerprint",
    "memory": "common.memory",
    "messages": "tables.messages",
    "parse": "events.parse",
    "plots": "report.plots",
    "redact": "events.redact",
    "remediate": "detection.remediate",
    "schema": "events.schema",
    "sessions": "tables.sessions",
    "sources": "events.sources",
    "store": "events.store",
    "syslog": "events.syslog",
    "table_cache": "report.table_cache",
    "timeline": "report.timeline",
}


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``maillog_forensics.<old name>`` and hands back the module at its new home."""

    def __init__(self, package: str) -> None:
        self.prefix = package + "."

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.startswith(self.prefix) and fullname[len(self.prefix) :] in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.prefix + MOVED[spec.name[len(self.prefix) :]])

    def exec_module(self, module: ModuleType) -> None:
        return None  # the module at its new home is already executed


def install(package: str) -> None:
    """Let the old flat module names of ``package`` import (once per process)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder(package))
