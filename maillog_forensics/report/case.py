"""The ``Case``: one dataset's tables (events, sessions, attempts, findings), built once.

Text from the logs reaches HTML only through pandas tables and plain-text outputs, which
nbconvert escapes.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ..common.memory import release_unused_memory
from ..detection.detect import DetectConfig, findings
from ..events.schema import EVENT_SCHEMA, EventRows
from ..events.store import (
    DatasetError,
    count_events,
    load_events,
    load_secrets,
    read_manifest,
    shared_source_names,
)
from ..tables.fingerprint import fingerprint

__all__ = ["ANALYSIS_COLUMNS", "Case", "analyse"]


def _analysis_columns() -> list[str]:
    from ..detection import detect
    from ..tables import auth, messages, sessions

    # what each step declares it reads (one list per module), and a few typed fields that
    # notebook readers of ``Case.events`` look at beside them
    for_readers = ["severity", "auth_driver", "metric_value", "anvil_service", "server_port"]
    wanted = {
        *sessions.EVENT_COLUMNS,
        *messages.EVENT_COLUMNS,
        *auth.EVENT_COLUMNS,
        *detect.EVENT_COLUMNS,
        *for_readers,
    }
    return [c.name for c in EVENT_SCHEMA if c.name in wanted]


#: The event columns ``Case`` loads: everything sessions, messages, attempts, the server
#: fingerprint and the findings read (not the raw line text, nor the rarely used fields).
#: ``tests/report/test_report.py`` checks the tables are the same as from the full frame.
ANALYSIS_COLUMNS: list[str] = _analysis_columns()


class Case:
    """Everything one report shows; each table is computed on first use, then kept.

    Each table reads from Parquet only the rows and columns it needs (``EVENT_ROWS`` and
    ``EVENT_COLUMNS`` of its module) and lets them go once it is built, so the memory a
    report needs is that of its largest step, not of every event at once. ``events`` (all
    analysis columns of every row in the window) is loaded only when asked for.

    With a Dask ``client`` the sessions are reconstructed on that cluster
    (:func:`maillog_forensics.tables.dask_sessions.sessions_on_cluster`: the same table); the other
    tables are computed here from them.
    """

    def __init__(
        self,
        dataset: str,
        *,
        reveal_passwords: bool = False,
        start: str | None = None,
        end: str | None = None,
        valid_users_file: str | None = None,
        client: Any = None,
        table_cache: str | None = None,
    ) -> None:
        self.dataset = dataset
        self.client = client
        self.table_cache = table_cache or None
        self.reveal_passwords = reveal_passwords
        self.manifest: dict[str, Any] = read_manifest(dataset)
        shared = shared_source_names(self.manifest)
        if shared:
            raise DatasetError(
                f"{dataset}: the lines of two different files are both named {shared[0]!r} (a log "
                "rotated between two ingests, in a dataset written by an earlier version), so a line "
                "number names two lines; ingest the logs again into a new dataset"
            )
        self.window = (start or None, end or None)
        self.config = DetectConfig()
        self.valid_users: set[str] | None = None
        if valid_users_file:
            text = Path(valid_users_file).read_text(errors="replace")
            self.valid_users = {
                ln.strip().lower() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")
            }

    def _table(self, name: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``build()``, or the same table another kernel of this report stored already."""
        table = self._cached_or_built(name, build)
        # the events a table was built from are gone: give their memory back before the next
        release_unused_memory()
        return table

    def _cached_or_built(self, name: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        if self.table_cache is None or self.reveal_passwords:  # clear passwords never go to disk
            return build()
        from dataclasses import asdict

        from ..tables.credentials import load_or_create_key
        from .table_cache import TableCache

        manifest = json.dumps(self.manifest, sort_keys=True, default=str).encode()
        try:
            key = load_or_create_key(self.dataset)
        except OSError:  # a read-only dataset without a key: no signing, so no cache
            return build()
        cache = TableCache(
            self.table_cache,
            key=key,
            depends_on={
                "dataset": str(Path(self.dataset).resolve()),
                "manifest": hashlib.sha256(manifest).hexdigest(),
                "window": self.window,
                "config": asdict(self.config),
                "valid_users": sorted(self.valid_users) if self.valid_users is not None else None,
            },
        )
        return cache.get_or_build(name, build)

    def load(self, *, columns: list[str], rows: EventRows | None = None) -> pd.DataFrame:
        """Events of the case's window: these columns, and only ``rows`` if given."""
        start, end = self.window
        return load_events(self.dataset, start=start, end=end, columns=columns, rows=rows)

    @cached_property
    def events(self) -> pd.DataFrame:
        """Every event of the window with the columns the analysis reads (large: avoid on big logs)."""
        return self.load(columns=ANALYSIS_COLUMNS)

    @cached_property
    def event_count(self) -> int:
        """Events in the window (counted from Parquet metadata, or from ``ts`` alone)."""
        start, end = self.window
        return count_events(self.dataset, start=start, end=end)

    @cached_property
    def timestamps(self) -> pd.DataFrame:
        """``ts``, ``source_file``, ``line_no`` of every event: coverage and counts."""
        return self.load(columns=["ts", "source_file", "line_no"])

    @cached_property
    def sessions(self) -> pd.DataFrame:
        """``sessions_from_events``."""
        from ..tables import sessions

        def build() -> pd.DataFrame:
            if self.client is not None:
                from ..tables.dask_sessions import sessions_on_cluster

                start, end = self.window
                return sessions_on_cluster(self.dataset, client=self.client, start=start, end=end)
            # the counters apart: as columns of every smtpd line they would double the memory
            return sessions.sessions_from_events(
                self.load(columns=sessions.LINE_COLUMNS, rows=sessions.EVENT_ROWS),
                disconnects=self.load(columns=sessions.DISCONNECT_COLUMNS, rows=sessions.DISCONNECT_ROWS),
            )

        return self._table("sessions", build)

    @cached_property
    def attempts(self) -> pd.DataFrame:
        """``auth_attempts_from_events`` (passwords only if ``reveal_passwords``)."""
        from ..tables import auth
        from ..tables.credentials import load_or_create_key

        def build() -> pd.DataFrame:
            events = self.load(columns=auth.EVENT_COLUMNS, rows=auth.EVENT_ROWS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return auth.auth_attempts_from_events(
                    events,
                    sessions=self.sessions,
                    secrets=load_secrets(self.dataset),
                    hmac_key=load_or_create_key(self.dataset),
                    reveal_passwords=self.reveal_passwords,
                )

        return self._table("attempts", build)

    @cached_property
    def messages(self) -> pd.DataFrame:
        """``messages_from_events``."""
        from ..tables import messages, sessions

        return self._table(
            "messages",
            # the smtpd lines apart, with the few columns that place them in sessions
            lambda: messages.messages_from_events(
                self.load(columns=messages.EVENT_COLUMNS, rows=messages.QUEUE_ROWS),
                smtpd_lines=self.load(columns=sessions.PLACEMENT_COLUMNS, rows=messages.SMTPD_ROWS),
            ),
        )

    @cached_property
    def deliveries(self) -> pd.DataFrame:
        """``deliveries_from_events``."""
        from ..tables import messages

        # the lines of a queue id are all it reads (no session is looked up)
        return self._table(
            "deliveries",
            lambda: messages.deliveries_from_events(
                self.load(columns=messages.EVENT_COLUMNS, rows=EventRows(queue_id=True))
            ),
        )

    @cached_property
    def mail_flow(self) -> pd.DataFrame:
        """``mail_flow.flow_lines``: each Postfix line pflogsumm counts, with what it counts as."""
        from ..tables import mail_flow

        return self._table(
            "mail_flow",
            lambda: mail_flow.flow_lines(
                self.load(columns=mail_flow.EVENT_COLUMNS, rows=mail_flow.EVENT_ROWS)
            ),
        )

    @cached_property
    def findings(self) -> pd.DataFrame:
        """``findings`` over the tables above."""
        from ..detection import detect

        def build() -> pd.DataFrame:
            events = self.load(columns=detect.EVENT_COLUMNS, rows=detect.EVENT_ROWS)
            return findings(
                events,
                sessions=self.sessions,
                attempts=self.attempts,
                messages=self.messages,
                config=self.config,
                server=fingerprint(events, log_lines=self.event_count),
            )

        return self._table("findings", build)


def analyse(
    dataset: str,
    *,
    logs: list[str] | None = None,
    reveal_passwords: bool = False,
    start: str | None = None,
    end: str | None = None,
    valid_users_file: str | None = None,
    thresholds: dict[str, int] | None = None,
    scheduler: str = "",
    table_cache: str = "",
) -> Case:
    """Open a dataset for a report (tables computed when first used).

    ``logs`` are ingested into ``dataset`` first when it does not exist yet (so a notebook
    runs on the bundled sample out of the box). ``start``/``end`` (UTC) limit the events;
    ``valid_users_file`` (one user name per line) tells which guessed names are real
    accounts where Dovecot did not say; ``thresholds`` override :class:`DetectConfig`;
    ``scheduler`` (``tcp://HOST:PORT``) reconstructs the sessions on that Dask cluster, whose
    workers must see the dataset at the same path (the connection lasts as long as the kernel).
    ``table_cache`` is a folder where the notebooks of one report share the tables they
    build (:mod:`maillog_forensics.report.table_cache`; not used when passwords are revealed).
    """
    if logs and not (Path(dataset) / "manifest.json").exists():
        from ..events.run import ingest

        ingest(logs, dataset, quiet=True)
    client = None
    if scheduler:
        from ..common.cluster import require_dask

        require_dask()
        from distributed import Client

        client = Client(scheduler)  # type: ignore[no-untyped-call]
    case = Case(
        dataset,
        reveal_passwords=reveal_passwords,
        start=start,
        end=end,
        valid_users_file=valid_users_file,
        client=client,
        table_cache=table_cache or None,
    )
    case.config = DetectConfig(**(thresholds or {}))
    return case
