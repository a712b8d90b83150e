"""maillog-forensics: Postfix and Dovecot mail logs turned into evidence.

>>> import maillog_forensics as mf
>>> stats = mf.ingest(["data/sample/mail.log"], "datasets/sample")   # doctest: +SKIP
>>> events = mf.load_events("datasets/sample", columns=["ts", "kind", "client_ip"])  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .ingest import IngestStats, ingest
from .store import load_events

__all__ = ["IngestStats", "__version__", "ingest", "load_events"]
