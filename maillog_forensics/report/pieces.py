"""What the notebooks show, one function a cell: the answer, tables, figures, actions."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..common.safe_text import visible
from ..common.wording import counted
from ..detection.actors import ActorMap, actors_from_findings
from ..detection.actors import actor_map as _actor_map_of
from ..detection.detect import SEVERITIES
from ..detection.remediate import blocklist, render_blocklist
from ..detection.rows import KIND_NAMES
from ..events.bookkeeping import time_inference_text
from ..events.coverage import InputCoverage, input_coverage
from ..events.store import (
    event_lines,
    load_events,
    source_names,
)
from ..tables.auth import FAILED_OUTCOMES
from ..tables.login_counts import login_counts
from .case import Case
from .log_lines import LINE_COLUMNS, line_text

__all__ = [
    "ATTACK_KINDS",
    "ROLE_ACCOUNTS",
    "actions",
    "actor_map",
    "answer",
    "attack_rates",
    "attackers_table",
    "compromise_mail_times",
    "compromise_messages",
    "compromised_table",
    "coverage",
    "dictionary_shape",
    "evidence_appendix",
    "figure",
    "findings_table",
    "inputs_table",
    "json_safe",
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
    """The answer first: was any account compromised, in plain sentences.

    Every count comes from :func:`~maillog_forensics.tables.login_counts.login_counts` of the
    case's attempts, as in ``summary.json`` and the ``summary`` command.
    """
    c = case.findings[case.findings["kind"] == "account_compromised"]
    counts = login_counts(case.attempts)
    backend = counts.server_error_sentence()
    if c.empty:
        tried = counts.failed_sentence()
        problem = coverage(case).problem
        if problem is not None:
            # no all-clear the logs have not earned
            lines = [f"CANNOT TELL: {problem}." + (f" {tried} are listed below." if counts.failed else "")]
        else:
            lines = [f"No. No account shows a suspicious successful login. {tried}."]
    else:
        users = sorted(c["subject_username"].dropna().unique())
        verb = "was" if len(users) == 1 else "were"
        lines = [f"YES: {counted(len(users), 'account')} {verb} taken over: {', '.join(users)}."]
        lines += [f"- {s}" for s in c["summary"]]
        if counts.failed:
            lines.append(f"In all: {counts.failed_sentence()}.")
    if backend:
        lines.append(backend)
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

    return Image(data=png(fig), alt=figure_text(fig))  # type: ignore[no-untyped-call]


def figure_text(fig: Any) -> str:
    """What a figure shows, in words, for readers who cannot see it (its titles and axes)."""
    parts = [fig.get_suptitle()]
    for ax in fig.axes:
        y, x = ax.get_ylabel(), ax.get_xlabel()
        words = [ax.get_title(), f"{y} against {x}" if y and x else y or x]
        parts += [w for w in words if w]
    return visible("; ".join(dict.fromkeys(p.replace("\n", " ") for p in parts if p)) or "figure")


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
    """One row per compromised account and address: the takeover login, the mail that followed."""
    c = case.findings[case.findings["kind"] == "account_compromised"]
    return pd.DataFrame(
        {
            "account": c["subject_username"],
            "from address": c["subject_ip"],
            "takeover login (UTC)": c["first_seen"],
            "messages sent": c["count"].where(c["severity"] == "critical", 0),
            "what happened": c["summary"],
        }
    ).reset_index(drop=True)


def compromise_messages(case: Case) -> pd.DataFrame:
    """Each message a compromised account submitted from the intruding address after the takeover.

    Columns: account, from address, submitted (UTC), Message-ID, sender, recipients, status
    and the log line of its submission.
    """
    columns = ["account", "from address", "submitted (UTC)", "Message-ID", "sender", "recipients"]
    columns += ["status", "log line"]
    c = case.findings[case.findings["kind"] == "account_compromised"]
    m = case.messages
    if c.empty or m.empty:
        return pd.DataFrame(columns=columns)
    takeover = dict(
        zip(zip(c["subject_username"], c["subject_ip"], strict=True), c["first_seen"], strict=True)
    )
    rows = []
    for r in m[m["sasl_username"].notna()].to_dict("records"):
        since = takeover.get((r["sasl_username"], r["client_ip"]))
        if since is None or (pd.notna(r["first_seen"]) and pd.notna(since) and r["first_seen"] < since):
            continue
        rows.append(
            {
                "account": r["sasl_username"],
                "from address": r["client_ip"],
                "submitted (UTC)": r["first_seen"],
                "Message-ID": r["message_id"],
                "sender": r["sender"],
                "recipients": ", ".join(
                    str(x) for x in (r["recipients"] if r["recipients"] is not None else [])
                ),
                "status": r["final_status"],
                "log line": r["first_line"] if isinstance(r["first_line"], str) else None,
            }
        )
    return pd.DataFrame(rows, columns=columns).sort_values(
        "submitted (UTC)", kind="stable", ignore_index=True
    )


def attackers_table(case: Case) -> pd.DataFrame:
    """Who attacked: one row per actor (an address, or a network of low-volume addresses).

    Each actor's tags say what it did (password guessing, spray, enumeration, a takeover);
    its counts come from the attempts table, like every other figure of the report.
    """
    actors = actors_from_findings(case.findings, case.attempts)
    return actors.rename(columns={"first seen": "first seen (UTC)", "last seen": "last seen (UTC)"})


def actor_map(case: Case) -> ActorMap:
    """Which actor each attacking address belongs to: figures colour by it."""
    return _actor_map_of(case.findings, case.attempts)


ATTACK_KINDS = ("brute_force_ip", "brute_force_network", "password_spray", "auth_failures")


def attack_rates(case: Case) -> pd.DataFrame:
    """Each attack finding's start, end, duration, failed logins and their rate per minute.

    The rate is counted over calendar minutes of the finding's address or network: the peak
    is its busiest minute, the mean is over the minutes with at least one failed login (so
    the mean never exceeds the peak, and a one-minute attack is not extrapolated to an hour).
    """
    f = case.findings[case.findings["kind"].isin(ATTACK_KINDS)]
    failed = case.attempts[case.attempts["outcome"].isin(list(FAILED_OUTCOMES))]
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
    # a network finding counts the addresses it stands for (those with no finding of their
    # own), as its finding and the attackers table do
    actor_of = _actor_map_of(case.findings, case.attempts).actor_of
    networks = ips.map({ip: actor_of[ip] for ip in ips.dropna().unique() if "/" in actor_of.get(ip, "")})
    # each address's and each network's failure times, sorted: a finding's window is a slice
    times: dict[str, np.ndarray] = {}
    for key in (ips, networks):  # NaN keys (no network actor) are dropped by groupby
        for value, where in key.groupby(key.to_numpy(), sort=False).indices.items():
            times.setdefault(str(value), np.sort(us[where]))
    rows = []
    records: list[Any] = list(f.itertuples(index=False))  # rows of mixed types
    for r in records:
        subject = r.subject_ip if isinstance(r.subject_ip, str) else str(r.subject_network)
        first, last = pd.Timestamp(r.first_seen), pd.Timestamp(r.last_seen)
        window = np.empty(0, dtype=np.int64)
        mine = times.get(subject)
        if mine is not None and pd.notna(first) and pd.notna(last):
            lo = np.searchsorted(mine, _us(first), side="left")
            hi = np.searchsorted(mine, _us(last), side="right")
            window = mine[lo:hi]
        peak, mean = per_minute_rates(window)
        rows.append(
            {
                "attack": KIND_NAMES.get(r.kind, r.kind),
                "kind": r.kind,
                "source": subject,
                "start (UTC)": r.first_seen,
                "end (UTC)": r.last_seen,
                "duration": (last - first) if pd.notna(first) and pd.notna(last) else pd.NaT,
                "failed logins": len(window),
                "active minutes": len(np.unique(window // _MINUTE_US)),
                "per minute (peak)": peak,
                "per active minute (mean)": mean,
            }
        )
    columns = ["attack", "kind", "source", "start (UTC)", "end (UTC)", "duration", "failed logins"]
    columns += ["active minutes"]
    columns += ["per minute (peak)", "per active minute (mean)"]
    return pd.DataFrame(rows, columns=columns)


_MINUTE_US = 60 * 1_000_000


def per_minute_rates(times_us: np.ndarray) -> tuple[int, float]:
    """The busiest calendar minute's count and the mean count over the active minutes.

    ``times_us`` are microseconds since the epoch. The mean is never above the peak.

    Examples
    --------
    >>> per_minute_rates(np.array([0, 1, 2, 60_000_000], dtype=np.int64))
    (3, 2.0)
    >>> per_minute_rates(np.array([], dtype=np.int64))
    (0, 0.0)
    """
    if not len(times_us):
        return 0, 0.0
    _, counts = np.unique(times_us // _MINUTE_US, return_counts=True)
    return int(counts.max()), round(float(counts.mean()), 1)


def _us(stamp: pd.Timestamp) -> int:
    """Microseconds since the epoch of a time stamp (naive ones are UTC)."""
    utc = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp
    return int(utc.to_datetime64().astype("datetime64[us]").astype(np.int64))


def findings_table(case: Case, *, min_severity: str = "low") -> pd.DataFrame:
    """Findings at or above a severity, for reading: the kind by its plain name, its code beside."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = case.findings[case.findings["severity"].map(rank) >= rank[min_severity]]
    named = f["kind"].map(lambda k: f"{KIND_NAMES.get(k, k)} ({k})")
    return pd.DataFrame(
        {
            "severity": f["severity"],
            "finding": named,
            "what the logs show": f["summary"],
            "what to do": f["action"],
            "first seen (UTC)": f["first_seen"],
            "last seen (UTC)": f["last_seen"],
            "count": f["count"],
        }
    ).reset_index(drop=True)


def evidence_appendix(
    case: Case, *, per_finding: int = 5, min_severity: str = "low", findings: int | None = None
) -> pd.DataFrame:
    """The log lines each finding rests on, as stored, with their ``file:line``.

    Parameters
    ----------
    case
        The case.
    per_finding
        At most this many lines of each finding (its first ones); the findings export has
        every line a finding quotes.
    min_severity
        Findings below this severity are left out, as in :func:`findings_table`.
    findings
        Only the first this many findings (those a report's findings table shows).

    Returns
    -------
    pandas.DataFrame
        ``finding``, ``line``, ``time (UTC)``, ``file:line`` and ``log line``: the line as the
        dataset stores it (credentials the ingest took out stay out), in the order of the
        findings, then of the lines.
    """
    columns = ["finding", "line", "time (UTC)", "file:line", "log line"]
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = case.findings[case.findings["severity"].map(rank) >= rank[min_severity]]
    f = f if findings is None else f.head(findings)
    cited: list[tuple[str, list[tuple[str, int]]]] = []  # each finding's label and lines
    for kind, ip, net, user, evidence in zip(
        f["kind"], f["subject_ip"], f["subject_network"], f["subject_username"], f["evidence"], strict=True
    ):
        refs = [(str(e["source_file"]), int(e["line_no"])) for e in evidence or [] if "line_no" in e]
        subject = next((str(v) for v in (ip, net, user) if isinstance(v, str) and v), "")
        cited.append((KIND_NAMES.get(kind, kind) + (f": {subject}" if subject else ""), refs))
    wanted = {ref for _, refs in cited for ref in refs}
    if not wanted:
        return pd.DataFrame(columns=columns)
    rows = event_lines(case.dataset, wanted, columns=["ts", *LINE_COLUMNS])
    keys = list(zip(rows["source_file"].astype(object), rows["line_no"], strict=True))
    text = dict(zip(keys, line_text(rows), strict=True))
    when = dict(zip(keys, rows["ts"], strict=True))
    order = {key: i for i, key in enumerate(keys)}  # input order: rotated files oldest first
    out: list[dict[str, Any]] = []
    for label, refs in cited:
        unique = sorted(set(refs), key=lambda r: order.get(r, len(order)))
        for k, (file, line_no) in enumerate(unique[:per_finding], start=1):
            out.append(
                {
                    "finding": label,
                    "line": f"{k} of {len(unique)} quoted",
                    "time (UTC)": when.get((file, line_no), pd.NaT),
                    "file:line": f"{file}:{line_no}",
                    "log line": text.get((file, line_no), "(not in the dataset)"),
                }
            )
    return pd.DataFrame(out, columns=columns)


def actions(case: Case, *, min_severity: str = "low") -> str:
    """What to do, most urgent first: passwords to reset, addresses to block, settings to change.

    Each account and each setting is named once. A password to change because it is in the
    logs is asked for only where the account exists or whether it does is unknown (not for a
    name Dovecot said does not exist).
    """
    a = case.attempts
    resets = sorted(
        case.findings.loc[case.findings["kind"] == "account_compromised", "subject_username"]
        .dropna()
        .unique()
    )
    logged = a.loc[a["credentials_logged"].fillna(False).astype(bool) & a["username"].notna()]
    absent = _known_absent(logged)
    leaked = sorted(set(logged["username"].astype(str)) - set(resets) - absent)
    out: list[str] = []
    step = 0
    if resets:
        step += 1
        out.append(
            f"{step}. Reset these passwords now and end their sessions (accounts taken over): "
            + ", ".join(resets)
        )
    if leaked:
        step += 1
        out.append(f"{step}. Change these passwords (they are in the logs): " + ", ".join(leaked))
    bl = blocklist(case.findings, a, min_severity=min_severity)
    step += 1
    entries = counted(len(bl.entries), "address or network", "addresses and networks")
    out.append(f"{step}. Block {entries} (nftables; other formats:")
    out.append("   `maillog-forensics blocklist --format plain|iptables|postfix|fail2ban`):")
    out.append(render_blocklist(bl, "nft").rstrip())
    for ip, why in bl.held_back.items():
        out.append(f"   Not listed, decide by hand: {ip} ({why})")
    settings = case.findings[
        case.findings["kind"].str.startswith("config_") | (case.findings["kind"] == "credentials_in_logs")
    ]
    changes = _each_once([act for act in settings["action"] if act != "None."])
    if changes:
        step += 1
        out.append(f"{step}. Change these settings:")
        out += [f"   - {act}" for act in changes]
    return "\n".join(out)


def _each_once(advice: list[str]) -> list[str]:
    """Pieces of advice in order, each once: one that another already says in full is dropped.

    >>> _each_once(["Set a = 1 and b = 2.", "Set a = 1.", "Set c = 3.", "Set c = 3."])
    ['Set a = 1 and b = 2.', 'Set c = 3.']
    """
    unique = list(dict.fromkeys(advice))
    core = [a.rstrip(". ") for a in unique]
    return [
        a
        for i, a in enumerate(unique)
        if not any(j != i and core[i] in other for j, other in enumerate(core))
    ]


def _known_absent(attempts: pd.DataFrame) -> set[str]:
    """User names every attempt of which the server said do not exist."""
    if attempts.empty:
        return set()
    exists = attempts.groupby(attempts["username"].astype(str))["account_exists"].agg(
        lambda s: bool((s == False).all()) if s.notna().all() else False  # noqa: E712
    )
    return set(exists[exists].index)


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
    rows = []
    for i in case.manifest.get("inputs", []):
        zone, year = time_inference_text(i)
        rows.append(
            {
                "file": i["path"],
                # what the evidence calls its lines (a path read again after rotation: PATH#2)
                "named in evidence": ", ".join(source_names(i)),
                "lines": i["lines"],
                "sha256": i["sha256"],
                "time zone": zone,
                "year": year,
            }
        )
    return pd.DataFrame(rows)


def summary(case: Case) -> dict[str, Any]:
    """Key figures for ``summary.json`` (no passwords)."""
    a = case.attempts
    f = case.findings
    cov = coverage(case)
    counts = login_counts(a)
    return {
        "dataset": case.dataset,
        # the report's answer in its own words (its first line) and the failed logins in words
        "verdict": answer(case).split("\n", 1)[0],
        "failed_logins_sentence": counts.failed_sentence(),
        # whether an answer can be given at all (``problem`` says why not)
        "answerable": cov.answerable,
        "problem": cov.problem,
        "unknown_share": round(cov.unknown_share, 4),
        "events": case.event_count,
        "sessions": len(case.sessions),
        "messages": len(case.messages),
        "attempts": len(a),
        "attempts_by_outcome": {k: int(v) for k, v in a["outcome"].value_counts().items()},
        # the same counts as the report's verdict and the summary command (one definition)
        "failed_logins": counts.failed,
        "refused_logins": counts.refused,
        "server_errors": counts.server_errors,
        "attacking_addresses": counts.failing_addresses,
        # one per actor of the attackers table (an address, or a network)
        "attackers": len(actors_from_findings(f, a)),
        "compromised_accounts": sorted(
            f.loc[f["kind"] == "account_compromised", "subject_username"].dropna().unique()
        ),
        "findings_by_kind": {k: int(v) for k, v in f["kind"].value_counts().items()},
        "findings": [{k: v for k, v in r.items() if k != "evidence"} for r in f.to_dict("records")],
        "blocklist": blocklist(f, a).entries,
    }


def write_summary(case: Case, output_dir: str) -> Path:
    """Write ``summary.json`` into ``output_dir`` (strict JSON: no ``NaN``, times in ISO 8601)."""
    path = Path(output_dir) / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_safe(summary(case)), indent=2, allow_nan=False))
    return path


def json_safe(value: Any) -> Any:
    """``value`` with what JSON cannot hold made plain: missing values → ``None``, times → ISO text.

    Examples
    --------
    >>> json_safe({"a": float("nan"), "b": [pd.NaT, pd.Timestamp("2026-11-27 10:00", tz="UTC")]})
    {'a': None, 'b': [None, '2026-11-27T10:00:00+00:00']}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [json_safe(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)
