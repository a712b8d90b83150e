"""Reports: the pieces the notebooks show, and running the notebooks into HTML.

The notebooks in ``notebooks/`` stay thin: each cell calls one function here. ``run_report``
executes them with papermill (kernel ``python3``, headless), keeps each executed notebook
beside an HTML export without code cells, and writes ``index.html`` and ``summary.json``.
Text from the logs reaches HTML only through pandas tables and plain-text outputs, which
nbconvert escapes.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .detect import SEVERITIES, DetectConfig, findings, network_of
from .fingerprint import fingerprint
from .memory import release_unused_memory
from .remediate import blocklist, render_blocklist
from .schema import EVENT_SCHEMA, EventRows
from .store import (
    DatasetError,
    count_events,
    load_events,
    load_secrets,
    read_manifest,
    shared_source_names,
    source_names,
)

__all__ = ["Case", "analyse", "run_report"]

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
DEFAULT_NOTEBOOKS = ("incident_report", "attack_timeline", "username_guesses", "ingest_quality")


def _analysis_columns() -> list[str]:
    from . import auth, detect, messages, sessions

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
#: ``tests/test_report.py`` checks the tables are the same as from the full frame.
ANALYSIS_COLUMNS: list[str] = _analysis_columns()


class Case:
    """Everything one report shows; each table is computed on first use, then kept.

    Each table reads from Parquet only the rows and columns it needs (``EVENT_ROWS`` and
    ``EVENT_COLUMNS`` of its module) and lets them go once it is built, so the memory a
    report needs is that of its largest step, not of every event at once. ``events`` (all
    analysis columns of every row in the window) is loaded only when asked for.

    With a Dask ``client`` the sessions are reconstructed on that cluster
    (:func:`maillog_forensics.dask_sessions.sessions_on_cluster`: the same table); the other
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

        from .credentials import load_or_create_key
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
        from . import sessions

        def build() -> pd.DataFrame:
            if self.client is not None:
                from .dask_sessions import sessions_on_cluster

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
        from . import auth
        from .credentials import load_or_create_key

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
        from . import messages, sessions

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
        from . import messages

        # the lines of a queue id are all it reads (no session is looked up)
        return self._table(
            "deliveries",
            lambda: messages.deliveries_from_events(
                self.load(columns=messages.EVENT_COLUMNS, rows=EventRows(queue_id=True))
            ),
        )

    @cached_property
    def findings(self) -> pd.DataFrame:
        """``findings`` over the tables above."""
        from . import detect

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
    build (:mod:`maillog_forensics.table_cache`; not used when passwords are revealed).
    """
    if logs and not (Path(dataset) / "manifest.json").exists():
        from .ingest import ingest

        ingest(logs, dataset, quiet=True)
    client = None
    if scheduler:
        from .cluster import require_dask

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


def answer(case: Case) -> str:
    """The answer first: was any account compromised, in plain sentences."""
    c = case.findings[case.findings["kind"] == "account_compromised"]
    if c.empty:
        failed = int(case.attempts["outcome"].isin(["failed", "rejected", "aborted", "rate_limited"]).sum())
        return (
            f"No. No account shows a suspicious successful login. {failed} failed login(s) from "
            f"{case.attempts['client_ip'].nunique()} address(es) are listed below."
        )
    users = sorted(c["subject_username"].dropna().unique())
    lines = [f"YES: {len(users)} account(s) were taken over: {', '.join(users)}."]
    lines += [f"- {s}" for s in c["summary"]]
    return "\n".join(lines)


def figure(fig: Any, *, interactive: bool = False) -> Any:
    """A figure for a notebook cell: a static PNG (reports), or a zoomable ipympl canvas (JupyterLab)."""
    if interactive:
        import warnings

        from ipympl.backend_nbagg import (  # type: ignore[import-untyped]
            new_figure_manager_given_figure,
        )

        # ipympl 0.9/0.10 passes the canvas through to a traitlets base class, which
        # warns (DeprecationWarning) on every toolbar; the widget works regardless.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            manager = new_figure_manager_given_figure(id(fig), fig)
        return manager.canvas
    from IPython.display import Image

    from .plots import png

    return Image(data=png(fig))  # type: ignore[no-untyped-call]


def compromise_mail_times(case: Case) -> pd.Series:
    """When the accounts of compromise findings sent mail from the intruding addresses."""
    c = case.findings[case.findings["kind"] == "account_compromised"]
    m = case.messages
    if c.empty or m.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    pairs = set(zip(c["subject_username"], c["subject_ip"], strict=True))
    mask = [(u, ip) in pairs for u, ip in zip(m["sasl_username"], m["client_ip"], strict=True)]
    return m.loc[mask, "first_seen"].reset_index(drop=True)


def compromised_table(case: Case) -> pd.DataFrame:
    """One row per compromised account and address, with the mail that followed."""
    c = case.findings[case.findings["kind"] == "account_compromised"]
    return pd.DataFrame(
        {
            "account": c["subject_username"],
            "from address": c["subject_ip"],
            "first seen (UTC)": c["first_seen"],
            "messages sent": c["count"],
            "what happened": c["summary"],
        }
    ).reset_index(drop=True)


ATTACK_KINDS = ("brute_force_ip", "brute_force_network", "password_spray", "auth_failures")


def attack_rates(case: Case) -> pd.DataFrame:
    """Each attack finding's start, end, and unsuccessful attempts per minute (mean and peak) and per hour.

    The peak is the busiest calendar minute of failed attempts from the finding's address or
    network; the means spread its unsuccessful attempts over the attack's span (at least one minute).
    """
    f = case.findings[case.findings["kind"].isin(ATTACK_KINDS)]
    failed = case.attempts[case.attempts["outcome"] != "succeeded"]
    failed = failed[failed["ts"].notna()]
    # microseconds (the stored unit): nanoseconds would overflow past 2262
    us = (
        failed["ts"]
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .to_numpy()
        .astype("datetime64[us]")
        .astype(np.int64)
    )
    ips = failed["client_ip"].astype(object)
    networks = ips.map({ip: network_of(ip) for ip in ips.dropna().unique()})
    # each address's and each network's failure times, sorted: a finding's window is a slice
    times: dict[str, np.ndarray] = {}
    for key in (ips, networks):
        for value, where in key.groupby(key.to_numpy(), sort=False).indices.items():
            times.setdefault(str(value), np.sort(us[where]))
    minute = 60 * 1_000_000
    rows = []
    records: list[Any] = list(f.itertuples(index=False))  # rows of mixed types
    for r in records:
        subject = r.subject_ip if isinstance(r.subject_ip, str) else str(r.subject_network)
        first, last = pd.Timestamp(r.first_seen), pd.Timestamp(r.last_seen)
        n, peak = 0, 0
        mine = times.get(subject)
        if mine is not None and pd.notna(first) and pd.notna(last):
            lo = np.searchsorted(mine, _us(first), side="left")
            hi = np.searchsorted(mine, _us(last), side="right")
            n = max(int(hi - lo), 0)
            if n:
                peak = int(np.unique(mine[lo:hi] // minute, return_counts=True)[1].max())
        span_min = max((last - first).total_seconds() / 60, 1.0)
        rows.append(
            {
                "kind": r.kind,
                "source": subject,
                "start (UTC)": r.first_seen,
                "end (UTC)": r.last_seen,
                "unsuccessful attempts": n,
                "per minute (mean)": round(n / span_min, 1),
                "per minute (peak)": peak,
                "per hour (mean)": round(n / span_min * 60, 1),
            }
        )
    columns = ["kind", "source", "start (UTC)", "end (UTC)", "unsuccessful attempts"]
    columns += ["per minute (mean)", "per minute (peak)", "per hour (mean)"]
    return pd.DataFrame(rows, columns=columns)


def _us(stamp: pd.Timestamp) -> int:
    """Microseconds since the epoch of a time stamp (naive ones are UTC)."""
    utc = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp
    return int(utc.to_datetime64().astype("datetime64[us]").astype(np.int64))


def findings_table(case: Case, *, min_severity: str = "low") -> pd.DataFrame:
    """Findings at or above a severity, for reading."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = case.findings[case.findings["severity"].map(rank) >= rank[min_severity]]
    return f[["severity", "kind", "summary", "action", "first_seen", "last_seen", "count"]].reset_index(
        drop=True
    )


def actions(case: Case, *, min_severity: str = "low") -> str:
    """What to do: addresses to block, passwords to reset, settings to change."""
    bl = blocklist(case.findings, case.attempts, min_severity=min_severity)
    out = [f"Block {len(bl.entries)} address(es)/network(s):", render_blocklist(bl, "nft").rstrip()]
    for ip, why in bl.held_back.items():
        out.append(f"Not listed, decide by hand: {ip} ({why})")
    resets = sorted(
        case.findings.loc[case.findings["kind"] == "account_compromised", "subject_username"]
        .dropna()
        .unique()
    )
    leaked = case.attempts.loc[
        case.attempts["credentials_logged"] & case.attempts["username"].notna(), "username"
    ]
    resets_leak = sorted(set(leaked) - set(resets))
    if resets:
        out.append("Reset these passwords now (accounts taken over): " + ", ".join(resets))
    if resets_leak:
        out.append("Change these passwords (they are in the logs): " + ", ".join(resets_leak))
    settings = case.findings[
        case.findings["kind"].str.startswith("config_") | (case.findings["kind"] == "credentials_in_logs")
    ]
    for act in dict.fromkeys(settings["action"]):
        if act != "None.":
            out.append("Setting: " + act)
    return "\n".join(out)


def _first_known(values: pd.Series) -> Any:
    known = values.dropna()
    return known.iloc[0] if len(known) else None


def usernames_table(case: Case, *, top: int = 15) -> pd.DataFrame:
    """The most tried user names: attempts, addresses, whether the account exists."""
    a = case.attempts[case.attempts["username"].notna()]
    if a.empty:
        return pd.DataFrame(columns=["user name", "attempts", "addresses", "exists", "succeeded"])
    g = a.groupby(a["username"].astype(str))
    table = pd.DataFrame(
        {
            "attempts": g.size(),
            "addresses": g["client_ip"].nunique(),
            "exists": g["account_exists"].agg(_first_known),
            "succeeded": g["outcome"].agg(lambda s: int((s == "succeeded").sum())),
        }
    )
    table = table.sort_values("attempts", ascending=False).head(top)
    if case.valid_users is not None:
        valid = case.valid_users
        table["in valid users file"] = [str(u).lower() in valid for u in table.index]
    return table.rename_axis("user name").reset_index()


ROLE_ACCOUNTS = frozenset(
    [
        "admin",
        "administrator",
        "root",
        "postmaster",
        "abuse",
        "info",
        "contact",
        "sales",
        "support",
        "office",
        "test",
        "user",
        "guest",
        "mail",
        "webmaster",
        "hostmaster",
        "noreply",
        "no-reply",
        "help",
        "billing",
        "marketing",
        "hr",
        "it",
        "www",
    ]
)


def dictionary_shape(case: Case) -> pd.DataFrame:
    """How the guessed names look: role accounts, bare local parts vs addresses, domains, walks."""
    a = case.attempts[case.attempts["username"].notna() & (case.attempts["outcome"] != "succeeded")]
    names = a["username"].astype(str)
    local = names.str.split("@").str[0].str.lower()
    domains = names[names.str.contains("@")].str.split("@").str[-1].str.lower()
    walks = 0
    for _, grp in a.assign(n=names.str.lower()).sort_values("ts").groupby("client_ip"):
        seq = list(dict.fromkeys(grp["n"]))
        walks += int(len(seq) >= 4 and sum(x <= y for x, y in pairwise(seq)) >= 0.8 * (len(seq) - 1))
    rows = [
        ("guesses with a user name", len(names)),
        ("distinct user names", names.str.lower().nunique()),
        ("role accounts (admin, info, test, ...)", int(local.isin(ROLE_ACCOUNTS).sum())),
        ("bare local parts (no @domain)", int((~names.str.contains("@")).sum())),
        ("full addresses", int(names.str.contains("@").sum())),
        (
            "domains guessed",
            ", ".join(f"{d} ({n})" for d, n in domains.value_counts().head(5).items()) or "-",
        ),
        ("addresses walking the alphabet", walks),
    ]
    return pd.DataFrame(rows, columns=["what", "value"]).astype({"value": str})


def mechanisms_table(case: Case) -> pd.DataFrame:
    """Attempts by SASL mechanism, SMTP service and outcome."""
    a = case.attempts
    return (
        a.assign(mechanism=a["mechanism"].fillna("(not logged)"), service=a["service"].fillna("?"))
        .groupby(["mechanism", "service", "outcome"])
        .size()
        .rename("attempts")
        .reset_index()
        .sort_values("attempts", ascending=False, ignore_index=True)
    )


def password_facts_table(case: Case) -> pd.DataFrame:
    """Password facts where the logs show passwords (length, class, reuse by keyed hash; no text)."""
    cols = [
        "username",
        "client_ip",
        "password_length_min",
        "password_length_max",
        "password_truncated",
        "password_class",
        "password_hmac",
    ]
    p = case.attempts[case.attempts["password_class"].notna()]
    if p.empty:
        return pd.DataFrame(columns=[*cols, "same password tried"])
    reuse = p.groupby("password_hmac")["password_hmac"].transform("size")
    return p[cols].assign(**{"same password tried": reuse.to_numpy()}).reset_index(drop=True)


def kinds_table(case: Case) -> pd.DataFrame:
    """Lines read per kind."""
    kc = case.manifest.get("kind_counts", {})
    items: list[tuple[str, int]] = sorted(((str(k), int(v)) for k, v in kc.items()), key=lambda kv: -kv[1])
    return pd.DataFrame(items, columns=["kind", "lines"])


def unparsed_examples(case: Case, *, n: int = 20) -> pd.DataFrame:
    """Lines no pattern knows, with where they are."""
    start, end = case.window
    columns = ["source_file", "line_no", "message"]
    u = load_events(case.dataset, start=start, end=end, kinds=["unparsed"], columns=columns)
    return u[columns].head(n).reset_index(drop=True)


def time_coverage(case: Case) -> pd.DataFrame:
    """First/last time stamp per input, and the longest silence."""
    rows = []
    events = case.timestamps
    for f, grp in events.groupby(events["source_file"].astype(str)):
        ts = pd.to_datetime(grp["ts"].dropna(), utc=True).sort_values()
        gap = ts.diff().max() if len(ts) > 1 else pd.Timedelta(0)
        rows.append(
            {
                "file": f,
                "first (UTC)": ts.min() if len(ts) else None,
                "last (UTC)": ts.max() if len(ts) else None,
                "longest gap": gap,
                "lines without time": int(grp["ts"].isna().sum()),
            }
        )
    return pd.DataFrame(rows)


def inputs_table(case: Case) -> pd.DataFrame:
    """The log files the report rests on, with their hashes and the time inference used."""
    rows = [
        {
            "file": i["path"],
            # what the evidence calls its lines (a path read again after rotation: PATH#2)
            "named in evidence": ", ".join(source_names(i)),
            "lines": i["lines"],
            "sha256": i["sha256"],
            "time zone": i.get("tz"),
            "year": f"{i.get('start_year')} ({i.get('source')})",
        }
        for i in case.manifest.get("inputs", [])
    ]
    return pd.DataFrame(rows)


def summary(case: Case) -> dict[str, Any]:
    """Key figures for ``summary.json`` (no passwords)."""
    a = case.attempts
    f = case.findings
    return {
        "dataset": case.dataset,
        "events": case.event_count,
        "sessions": len(case.sessions),
        "messages": len(case.messages),
        "attempts": len(a),
        "attempts_by_outcome": {k: int(v) for k, v in a["outcome"].value_counts().items()},
        "attacking_addresses": int(a.loc[a["outcome"] != "succeeded", "client_ip"].nunique()),
        "compromised_accounts": sorted(
            f.loc[f["kind"] == "account_compromised", "subject_username"].dropna().unique()
        ),
        "findings_by_kind": {k: int(v) for k, v in f["kind"].value_counts().items()},
        "findings": [
            {k: (str(v) if k in ("first_seen", "last_seen") else v) for k, v in r.items() if k != "evidence"}
            for r in f.to_dict("records")
        ],
        "blocklist": blocklist(f, a).entries,
    }


def write_summary(case: Case, output_dir: str) -> Path:
    """Write ``summary.json`` into ``output_dir``."""
    path = Path(output_dir) / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary(case), indent=2, default=str))
    return path


# ----------------------------------------------------------------------- running notebooks


@dataclass
class NotebookResult:
    """One executed notebook: where its outputs are, or what failed."""

    name: str
    ipynb: Path
    html: Path | None
    seconds: float
    error: str | None = None


def notebook_parameters(notebooks: tuple[str, ...] = DEFAULT_NOTEBOOKS) -> dict[str, str]:
    """The parameters the notebooks declare, name -> type name (``str``, ``int``, ``dict``...)."""
    import jupytext
    from papermill.inspection import _infer_parameters

    declared: dict[str, str] = {}
    for name in notebooks:
        nb = jupytext.read(NOTEBOOKS_DIR / f"{name}.py")
        for cell in nb.cells:  # papermill expects every cell to carry a tags list
            cell.metadata.setdefault("tags", [])
        for p in _infer_parameters(nb):
            declared.setdefault(p.name, p.inferred_type_name)
    return declared


def parameters_from_text(pairs: list[tuple[str, str]], declared: dict[str, str]) -> dict[str, Any]:
    """Command-line ``NAME VALUE`` pairs as typed notebook parameters.

    A value is read as the type its notebook declares: ``int``, ``bool`` (true/false),
    ``dict``/``list`` (JSON), anything else stays text. Unknown names and unreadable
    values raise ``ValueError`` naming the parameter, before any notebook runs.

    >>> parameters_from_text([("top_users", "20"), ("start", "2026")], {"top_users": "int", "start": "str"})
    {'top_users': 20, 'start': '2026'}
    """
    typed: dict[str, Any] = {}
    for name, text in pairs:
        if name not in declared:
            raise ValueError(f"unknown parameter {name!r}; the notebooks take: {', '.join(sorted(declared))}")
        kind = declared[name]
        try:
            if kind == "int":
                typed[name] = int(text)
            elif kind == "float":
                typed[name] = float(text)
            elif kind == "bool":
                typed[name] = {"true": True, "false": False, "1": True, "0": False}[text.lower()]
            elif kind in ("dict", "list"):
                value = json.loads(text)
                if type(value).__name__ != kind:
                    raise ValueError(f"not a JSON {kind}")
                typed[name] = value
            else:
                typed[name] = text
        except (ValueError, KeyError) as exc:
            raise ValueError(f"parameter {name!r} wants a {kind}, got {text!r} ({exc})") from None
    return typed


def run_report(
    inputs: list[str],
    out_dir: str,
    *,
    parameters: dict[str, Any] | None = None,
    notebooks: tuple[str, ...] = DEFAULT_NOTEBOOKS,
    tz: str | None = None,
    year: int | None = None,
    quiet: bool = False,
) -> list[NotebookResult]:
    """Ingest raw logs (or take a dataset), run the notebooks, export HTML, write an index.

    Parameters
    ----------
    inputs
        Raw log files/folders, or one dataset folder (it has a ``manifest.json``).
    out_dir
        Report folder: ``<name>.ipynb`` (executed), ``<name>.html``, ``index.html``,
        ``summary.json``, and ``dataset/`` when logs were ingested.
    parameters
        Notebook parameters (papermill), e.g. ``{"min_severity": "medium"}``. Unless
        ``table_cache`` is among them, the notebooks share the tables they build through
        ``<out_dir>/.tables``, which is removed when the run ends.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if len(inputs) == 1 and (Path(inputs[0]) / "manifest.json").exists():
        dataset = inputs[0]
    else:
        from .ingest import ingest

        dataset = str(out / "dataset")
        ingest(inputs, dataset, tz=tz, year=year, quiet=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    params = {"dataset": str(Path(dataset).resolve()), "output_dir": str(out.resolve()), **(parameters or {})}
    # the notebooks share the tables they build through a folder of this run (removed after)
    shared_tables = out / ".tables"
    own_cache = "table_cache" not in params
    if own_cache:
        _remove_tables(shared_tables)  # left by a killed run
        params["table_cache"] = str(shared_tables.absolute())
    try:
        results = _run_notebooks(out, notebooks, params, quiet=quiet)
    finally:
        if own_cache:
            _remove_tables(shared_tables)
    _write_index(out, results)
    return results


def _remove_tables(folder: Path) -> None:
    if folder.is_symlink():
        folder.unlink()  # never follow it: the tables go into a folder of our own
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _local_kernel_manager() -> type:
    """A kernel manager that talks to its kernel over Unix sockets, not TCP.

    The connection file and the sockets (``kernel-<uuid>-ipc-<n>``) are in Jupyter's
    private runtime folder (mode 0700), so other users of the machine cannot reach the
    kernel (over loopback TCP they could connect, though not without its key), two reports
    never share a socket, the report's folder gets none, and the kernel has no reason to
    warn that it runs over TCP without encryption. TCP where there are no Unix sockets
    (Windows) or their path would be too long.
    """
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from jupyter_core.utils import ensure_dir_exists
    from traitlets import CaselessStrEnum, default

    runtime = jupyter_runtime_dir()
    # a Unix socket path holds at most 107 bytes: "<runtime>/kernel-<uuid>-ipc-<n>"
    if sys.platform == "win32" or len(os.fsencode(runtime)) > 107 - 60:
        return AsyncKernelManager  # type: ignore[no-any-return]

    class LocalKernelManager(AsyncKernelManager):  # type: ignore[misc]
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("connection_file")
        def _private_connection_file(self) -> str:
            ensure_dir_exists(runtime, 0o700)
            return os.path.join(runtime, f"kernel-{uuid.uuid4()}.json")

    return LocalKernelManager


def _run_notebooks(
    out: Path, notebooks: tuple[str, ...], params: dict[str, Any], *, quiet: bool
) -> list[NotebookResult]:
    import jupytext
    import papermill as pm
    from nbconvert import HTMLExporter

    results = []
    for name in notebooks:
        started = time.perf_counter()
        declared = notebook_parameters((name,))
        nb_params = {k: v for k, v in params.items() if k != "table_cache" or k in declared}
        source = NOTEBOOKS_DIR / f"{name}.py"
        target = out / f"{name}.ipynb"
        if not quiet:
            print(f"[report] {name}: running", file=sys.stderr)
        try:
            nb = jupytext.read(source)
            pm.execute_notebook(
                nb,
                str(target),
                parameters=nb_params,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(out),
                kernel_manager_class=_local_kernel_manager(),
            )
        except Exception as exc:  # one notebook failing must not stop the others
            results.append(
                NotebookResult(name, target, None, time.perf_counter() - started, _cell_error(exc))
            )
            if not quiet:
                print(f"[report] {name}: FAILED: {results[-1].error}", file=sys.stderr)
            continue
        exporter = HTMLExporter(  # type: ignore[no-untyped-call]
            exclude_input=True, exclude_output_prompt=True, exclude_input_prompt=True
        )
        body, _ = exporter.from_filename(str(target))
        html_path = out / f"{name}.html"
        html_path.write_text(body)
        results.append(NotebookResult(name, target, html_path, time.perf_counter() - started))
        if not quiet:
            print(f"[report] {name}: {html_path} ({results[-1].seconds:.1f} s)", file=sys.stderr)
    return results


def _cell_error(exc: Exception) -> str:
    cell = getattr(exc, "exec_count", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where = f"cell {cell}: " if cell is not None else ""
    return f"{where}{ename}: {str(evalue).splitlines()[0] if evalue else ''}"


def _write_index(out: Path, results: list[NotebookResult]) -> None:
    items = []
    for r in results:
        name = html.escape(r.name)
        if r.html is not None:
            items.append(f'<li><a href="{html.escape(r.html.name)}">{name}</a> ({r.seconds:.1f} s)</li>')
        else:
            items.append(f"<li>{name}: failed: {html.escape(r.error or '')}</li>")
    (out / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>maillog-forensics report</title>"
        "<h1>maillog-forensics report</h1><ul>" + "".join(items) + "</ul>"
        "<p>summary: <a href='summary.json'>summary.json</a></p>\n"
    )
