"""maillog-forensics: Postfix and Dovecot mail logs turned into evidence.

>>> import maillog_forensics as mf
>>> stats = mf.ingest(["data/sample/mail.log"], "datasets/sample")   # doctest: +SKIP
>>> events = mf.load_events("datasets/sample")                        # doctest: +SKIP
>>> sessions = mf.sessions_from_events(events)                        # doctest: +SKIP
>>> messages = mf.messages_from_events(events)                        # doctest: +SKIP
>>> found = mf.findings(events)                                       # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .auth import auth_attempts_from_events
from .credentials import load_or_create_key
from .detect import DetectConfig, findings
from .explain import explain_lines
from .fingerprint import fingerprint
from .ingest import IngestStats, ingest
from .messages import deliveries_from_events, messages_from_events
from .remediate import blocklist
from .sessions import sessions_from_events
from .store import load_events, load_secrets

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
