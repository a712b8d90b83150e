"""maillog-forensics: Postfix, Dovecot and Cyrus mail logs turned into evidence.

The package is laid out in the order the data flows, each stage importing only the ones
before it (an import-linter contract in ``pyproject.toml`` holds it)::

    events/     raw logs → Parquet event dataset (+ manifest): the ingest
    tables/     events → sessions, messages, credentials, attempts, fingerprint
    detection/  tables → findings, blocklists and advice, plain-word explanations
    report/     findings and tables → notebooks, HTML, exports, timelines
    cli.py      the ``maillog-forensics`` command

(The stages are not named ``ingest`` and ``findings``: those are the functions below, and a
sub-package of the same name would hide them from ``import maillog_forensics.x.y``.)

>>> import maillog_forensics as mf
>>> stats = mf.ingest(["data/sample/mail.log"], "datasets/sample")   # doctest: +SKIP
>>> events = mf.load_events("datasets/sample")                        # doctest: +SKIP
>>> sessions = mf.sessions_from_events(events)                        # doctest: +SKIP
>>> messages = mf.messages_from_events(events)                        # doctest: +SKIP
>>> found = mf.findings(events)                                       # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ._moved import MOVED, install
from .common.version import __version__
from .detection import DetectConfig, findings
from .detection.explain import explain_lines
from .detection.remediate import blocklist
from .events import IngestStats, ingest
from .events.store import load_events, load_secrets
from .tables.auth import auth_attempts_from_events
from .tables.credentials import load_or_create_key
from .tables.fingerprint import fingerprint
from .tables.messages import deliveries_from_events, messages_from_events
from .tables.sessions import sessions_from_events

__all__ = [
    "DetectConfig",
    "IngestStats",
    "__version__",
    "auth_attempts_from_events",
    "blocklist",
    "deliveries_from_events",
    "explain_lines",
    "findings",
    "fingerprint",
    "ingest",
    "load_events",
    "load_or_create_key",
    "load_secrets",
    "messages_from_events",
    "sessions_from_events",
]

install(__name__)


def __getattr__(name: str) -> ModuleType:
    """``mf.store`` and the other flat module names of before the sub-packages."""
    if name in MOVED:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
