"""What the notebooks show, one function a cell: the answer, tables, figures, actions."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..detection.detect import SEVERITIES, network_of
from ..detection.remediate import blocklist, render_blocklist
from ..events.coverage import InputCoverage, input_coverage
from ..events.store import (
    load_events,
    source_names,
)
from ..tables.auth import FAILED_OUTCOMES
from .case import Case

__all__ = [
    "ATTACK_KINDS",
    "ROLE_ACCOUNTS",
    "actions",
    "answer",
    "attack_rates",
    "compromise_mail_times",
    "compromised_table",
    "coverage",
    "dictionary_shape",
    "figure",
    "findings_table",
    "inputs_table",
    "kinds_table",
    "mechanisms_table",
    "password_facts_table",
    "summary",
    "time_coverage",
    "unparsed_examples",
    "usernames_table",
    "write_summary",
]


def coverage(case: Case) -> InputCoverage:
    """How much of the case's logs the tool understood (see :mod:`maillog_forensics.events.coverage`)."""
    return input_coverage(case.manifest.get("kind_counts", {}), attempts=len(case.attempts))


def answer(case: Case) -> str:
    """The answer first: was any account compromised, in plain sentences."""
    c = case.findings[case.findings["kind"] == "account_compromised"]
    if c.empty:
        a = case.attempts
        failed = a[a["outcome"].isin(list(FAILED_OUTCOMES))]
        tried = f"{len(failed)} failed login(s) from {failed['client_ip'].nunique()} address(es)"
        problem = coverage(case).problem
        if problem is not None:
            # no all-clear the logs have not earned
            return f"CANNOT TELL: {problem}." + (f" {tried} are listed below." if len(failed) else "")
        return f"No. No account shows a suspicious successful login. {tried} are listed below."
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
    cov = coverage(case)
    return {
        "dataset": case.dataset,
        # whether an answer can be given at all (``problem`` says why not)
        "answerable": cov.answerable,
        "problem": cov.problem,
        "unknown_share": round(cov.unknown_share, 4),
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
