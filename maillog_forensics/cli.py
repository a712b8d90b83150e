"""The ``maillog-forensics`` command."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .common.version import __version__
from .common.wording import counted

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="maillog-forensics",
        description="Turn Postfix and Dovecot mail logs into evidence.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ing = sub.add_parser(
        "ingest",
        help="parse raw logs into a Parquet event dataset",
        description="Parse raw logs (files, folders, globs, - for stdin; gz/bz2/xz/zst; journalctl -o json) "
        "into a hive-partitioned Parquet dataset. Re-running adds only new lines.",
    )
    ing.add_argument("logs", nargs="+", metavar="LOG", help="log file, folder, glob or - (stdin)")
    ing.add_argument(
        "-o", "--output", required=True, metavar="DATASET", help="dataset folder (created if missing)"
    )
    ing.add_argument(
        "--year", type=int, help="year of the first year-less time stamp (default: from file mtime)"
    )
    ing.add_argument("--tz", help="IANA time zone of stamps without offset (default: this machine's)")
    ing.add_argument(
        "--host-filter", nargs="+", metavar="HOST", help="keep only lines from these syslog hosts"
    )
    ing.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")
    ing.add_argument(
        "--wait",
        action="store_true",
        help="if another ingest is writing to the dataset, wait for it (default: stop with an error)",
    )
    where = ing.add_mutually_exclusive_group()
    where.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="batches parsed at once on this machine (default: the CPUs, at most 4; 1: one after another)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="parse on the workers of this Dask scheduler (tcp://HOST:PORT); they must see the dataset "
        "folder at the same path (needs the dask extra)",
    )
    where.add_argument(
        "--dask-workers",
        type=int,
        metavar="N",
        help="parse on a local Dask cluster of N worker processes (needs the dask extra)",
    )

    exp = sub.add_parser(
        "export",
        help="write a table of a dataset as csv, jsonl, json or parquet",
        description="Write a table (events, sessions, messages, deliveries, attempts, findings) of a "
        "dataset, or a Timesketch-ready timeline (every dated line and every finding, JSON Lines by "
        "default). CSV (RFC 4180, CRLF rows) quotes every cell with a CR or LF, neutralises cells that start "
        "like a formula (also after leading white space) and, on a terminal, shows control characters as ?.",
    )
    exp.add_argument("table", choices=list(TABLES), help="which table")
    exp.add_argument("dataset", metavar="DATASET")
    exp.add_argument(
        "--format",
        choices=["csv", "jsonl", "json", "parquet"],
        help="output format (default: csv; jsonl for the timeline, which Timesketch imports as is)",
    )
    exp.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output)")
    exp.add_argument("--start", help="only events at or after this time (UTC): every table is made of those")
    exp.add_argument("--end", help="only events before this time (UTC)")
    exp.add_argument("--kind", nargs="+", help="events, timeline: only lines of these kinds")
    exp.add_argument(
        "--reveal-passwords",
        action="store_true",
        help="attempts: show decoded passwords in clear (default: length, class and keyed hash only)",
    )
    _cluster_options(exp)

    ex = sub.add_parser(
        "explain",
        help="explain pasted log lines in plain language",
        description="Explain log lines: give a file, - for stdin, or the lines themselves as arguments. "
        "Credentials in the lines are decoded; passwords stay redacted unless --reveal-passwords.",
    )
    ex.add_argument("lines", nargs="+", metavar="LOG_OR_LINE")
    ex.add_argument("--reveal-passwords", action="store_true", help="show decoded passwords in clear")
    ex.add_argument("--year", type=int, help="year of time stamps without one (default: this year)")

    fnd = sub.add_parser(
        "findings",
        help="attacks, compromises and risky settings, with evidence and actions",
        description="Findings of a dataset: brute force (per address and per network), password spraying, "
        "username enumeration, compromised accounts, credentials in logs, server settings.",
    )
    fnd.add_argument("dataset", metavar="DATASET")
    fnd.add_argument("--format", default="table", choices=["table", "json", "jsonl", "csv"])
    fnd.add_argument("--min-severity", default="info", choices=["info", "low", "medium", "high", "critical"])
    fnd.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output)")
    fnd.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a threshold of DetectConfig, e.g. --set brute_force_min_failures=10",
    )
    _cluster_options(fnd)

    blk = sub.add_parser(
        "blocklist",
        help="addresses and networks to block, for nftables, iptables, Postfix or fail2ban",
        description="Attacking addresses and networks from the findings. An address that also logged in "
        "as a legitimate user is never listed; it is reported on stderr for a human to decide.",
    )
    blk.add_argument("dataset", metavar="DATASET")
    blk.add_argument("--format", default="plain", choices=["plain", "nft", "iptables", "postfix", "fail2ban"])
    blk.add_argument("--min-severity", default="low", choices=["info", "low", "medium", "high", "critical"])
    blk.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a threshold")
    _cluster_options(blk)

    rep = sub.add_parser(
        "report",
        help="run the report notebooks into HTML (ingesting raw logs first)",
        description="Ingest raw logs (or take a dataset), run the notebooks with papermill, export HTML "
        "without code, write index.html and summary.json.",
    )
    rep.add_argument("inputs", nargs="+", metavar="LOG_OR_DATASET")
    rep.add_argument("-o", "--output", default="reports", metavar="OUT_DIR")
    rep.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    rep.add_argument("--notebooks", nargs="+", help="which notebooks (default: all)")
    rep.add_argument("--tz", help="IANA zone of time stamps without offset (raw logs)")
    rep.add_argument("--year", type=int, help="year of the first year-less time stamp (raw logs)")

    summ = sub.add_parser(
        "summary", help="print what a dataset holds", description="Print the manifest summary."
    )
    summ.add_argument("dataset", metavar="DATASET")
    _cluster_options(summ)
    return p


#: the tables ``export`` writes (kept here so ``--help`` needs no pandas import)
TABLES = ("events", "sessions", "messages", "deliveries", "attempts", "findings", "timeline")
#: tables that do not use the sessions, hence no Dask cluster
_LOCAL_TABLES = ("events", "messages", "deliveries")


def _cluster_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="reconstruct the sessions on the workers of this Dask scheduler (tcp://HOST:PORT); they "
        "must see the dataset folder at the same path (needs the dask extra)",
    )
    where.add_argument(
        "--dask-workers",
        type=int,
        metavar="N",
        help="reconstruct the sessions on a local Dask cluster of N worker processes (needs the dask extra)",
    )


@contextlib.contextmanager
def _case(args: argparse.Namespace, **options: Any) -> Iterator[Any]:
    """The dataset's ``report.Case``, its sessions on a Dask cluster when asked for."""
    from .events.store import DatasetError
    from .report.case import Case

    if not (Path(args.dataset) / "manifest.json").exists():
        raise DatasetError(f"{args.dataset} is not a maillog-forensics dataset (no manifest.json)")
    if args.scheduler is None and args.dask_workers is None:
        yield Case(args.dataset, **options)
        return
    from .common.cluster import cluster_client

    with cluster_client(scheduler=args.scheduler, workers=args.dask_workers) as client:
        yield Case(args.dataset, client=client, **options)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "export":
            return _export(args)
        if args.command == "summary":
            return _summary(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "findings":
            return _findings(args)
        if args.command == "report":
            return _report(args)
        if args.command == "blocklist":
            return _blocklist(args)
    except BrokenPipeError:  # e.g. `export ... | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("maillog-forensics: interrupted; the dataset was left as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, never a traceback, for expected failures
        from .common.cluster import DaskMissingError
        from .common.safe_text import terminal_safe
        from .events.sources import InputError
        from .events.store import DatasetError

        if isinstance(exc, InputError | DatasetError | DaskMissingError | ValueError | OSError):
            # never an empty message: some libraries raise without one
            print(
                f"maillog-forensics: error: {terminal_safe(str(exc) or type(exc).__name__)}", file=sys.stderr
            )
            return 2
        if type(exc).__name__ == "ZoneInfoNotFoundError":
            print(f"maillog-forensics: error: unknown time zone {terminal_safe(str(exc))}", file=sys.stderr)
            return 2
        raise
    return 2


def _ingest(args: argparse.Namespace) -> int:
    from .events.run import ingest

    stats = ingest(
        args.logs,
        args.output,
        year=args.year,
        tz=args.tz,
        host_filter=args.host_filter,
        quiet=args.quiet,
        scheduler=args.scheduler,
        dask_workers=args.dask_workers,
        threads=args.threads,
        wait=args.wait,
    )
    if not args.quiet:
        print(stats.summary())
    return 0


def _export(args: argparse.Namespace) -> int:
    from .events.store import iter_events
    from .report.export import export_pieces, export_table

    if args.table in _LOCAL_TABLES and (args.scheduler is not None or args.dask_workers is not None):
        print(
            f"maillog-forensics: note: {args.table} are computed on this machine; a Dask cluster "
            "serves sessions, attempts and findings (--scheduler/--dask-workers ignored)",
            file=sys.stderr,
        )
        args.scheduler = args.dask_workers = None
    if args.format is None:
        args.format = "jsonl" if args.table == "timeline" else "csv"
    if args.format == "parquet" and not args.output:
        raise ValueError("parquet output needs -o FILE")  # before any table is computed
    if args.table == "timeline":
        return _export_timeline(args)
    if args.table == "events":
        # a million lines at a time: an export of any size fits in memory
        pieces = iter_events(args.dataset, start=args.start, end=args.end, kinds=args.kind)
        export_pieces(pieces, fmt=args.format, out=args.output)
        return 0
    if args.reveal_passwords and args.table == "attempts":
        print("maillog-forensics: warning: passwords are shown in clear text", file=sys.stderr)
    with _case(args, start=args.start, end=args.end, reveal_passwords=args.reveal_passwords) as case:
        df = getattr(case, args.table)
    export_table(df, fmt=args.format, out=args.output)
    return 0


def _export_timeline(args: argparse.Namespace) -> int:
    """Every dated line (streamed a quarter million at a time), then every finding.

    Findings come first in time only: they are computed before the lines are streamed, so a
    failing analysis stops the export before it writes anything.
    """
    from .common.memory import release_unused_memory
    from .events.store import event_times, iter_events, read_manifest
    from .report.export import export_pieces
    from .report.timeline import (
        EVENT_COLUMNS,
        file_hashes_from_manifest,
        timeline_from_events,
        timeline_from_findings,
        undated_evidence,
    )

    with _case(args, start=args.start, end=args.end) as case:  # refuses a folder that is no dataset
        found = case.findings
    del case  # its sessions, attempts and messages: not needed while the lines stream
    release_unused_memory()
    hashes = file_hashes_from_manifest(read_manifest(args.dataset))
    findings_rows = timeline_from_findings(
        found, evidence_times=event_times(args.dataset, undated_evidence(found))
    )
    undated = [0]

    def pieces() -> Iterator[Any]:
        for events in iter_events(
            args.dataset,
            start=args.start,
            end=args.end,
            kinds=args.kind,
            columns=list(EVENT_COLUMNS),
            chunk_lines=250_000,  # a timeline row is several times its line: smaller pieces
        ):
            undated[0] += int(events["ts"].isna().sum())
            yield timeline_from_events(events, file_hashes=hashes)
        yield findings_rows

    export_pieces(pieces(), fmt=args.format, out=args.output, skip_nulls=True)
    if undated[0]:
        print(
            f"maillog-forensics: note: {undated[0]} lines without a time stamp are not in the timeline "
            "(`maillog-forensics export events` has them)",
            file=sys.stderr,
        )
    return 0


def _config(settings: list[str]) -> Any:
    """A DetectConfig with ``NAME=VALUE`` overrides (integers)."""
    import dataclasses

    from .detection.detect import DetectConfig

    names = {f.name for f in dataclasses.fields(DetectConfig)}
    values: dict[str, int] = {}
    for item in settings:
        name, _, value = item.partition("=")
        if name not in names or not value.isdigit():
            raise ValueError(
                f"--set {item!r}: expected NAME=NUMBER with NAME one of {', '.join(sorted(names))}"
            )
        values[name] = int(value)
    return DetectConfig(**values)


def _analyse(args: argparse.Namespace) -> tuple[Any, Any]:
    """Findings and attempts of a dataset (passwords never in clear here)."""
    config = _config(args.set)
    with _case(args) as case:
        case.config = config
        return case.findings, case.attempts


def _findings(args: argparse.Namespace) -> int:
    from .common.safe_text import terminal_safe
    from .detection.detect import SEVERITIES
    from .report.export import export_table

    found, _ = _analyse(args)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    found = found[found["severity"].map(rank) >= rank[args.min_severity]]
    if args.format != "table":
        export_table(found, fmt=args.format, out=args.output)
        return 0
    lines = []
    for rec in found.to_dict("records"):
        who = rec["subject_username"] or rec["subject_ip"] or rec["subject_network"] or ""
        lines.append(f"[{rec['severity'].upper():8}] {rec['kind']}: {rec['summary']}")
        if isinstance(who, str) and who:
            lines.append(f"           subject: {who}; evidence: {counted(len(rec['evidence']), 'line')}")
        lines.append(f"           action: {rec['action']}")
    text = terminal_safe("\n".join(lines) or "no findings")
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)
    return 0


def _blocklist(args: argparse.Namespace) -> int:
    from .common.safe_text import terminal_safe
    from .detection.remediate import blocklist, render_blocklist

    found, attempts = _analyse(args)
    bl = blocklist(found, attempts, min_severity=args.min_severity)
    sys.stdout.write(render_blocklist(bl, args.format))
    for ip, why in bl.held_back.items():
        print(f"maillog-forensics: not listed, review by hand: {terminal_safe(ip)}: {why}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report.runner import DEFAULT_NOTEBOOKS, notebook_parameters, parameters_from_text, run_report

    notebooks = tuple(args.notebooks or DEFAULT_NOTEBOOKS)
    # typed and checked before anything runs: a typo must not cost a 10-minute ingest
    pairs = [(name, value) for name, value in args.parameter]
    params = parameters_from_text(pairs, notebook_parameters(notebooks))
    results = run_report(
        args.inputs,
        args.output,
        parameters=params,
        notebooks=notebooks,
        tz=args.tz,
        year=args.year,
    )
    index = Path(args.output) / "index.html"
    print(f"report: {index.resolve()}")
    return 1 if any(r.error for r in results) else 0


def _log_lines(text: str) -> list[str]:
    """Split like ingest: on ``\\n`` only (not U+2028, form feed, ...), one CR before it dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _explain(args: argparse.Namespace) -> int:
    from .detection.explain import explain_lines

    first = args.lines[0]
    if len(args.lines) == 1 and first == "-":
        lines = _log_lines(sys.stdin.read())
    elif len(args.lines) == 1 and Path(first).is_file():
        lines = _log_lines(Path(first).read_text(errors="replace"))[:5000]
    else:
        lines = [ln for arg in args.lines for ln in _log_lines(arg)]
    if args.reveal_passwords:
        print("maillog-forensics: warning: passwords are shown in clear text", file=sys.stderr)
    print(explain_lines(lines, reveal_passwords=args.reveal_passwords, year=args.year))
    return 0


def _summary(args: argparse.Namespace) -> int:
    from .common.safe_text import terminal_safe
    from .events.bookkeeping import time_inference_text
    from .events.store import DatasetError, read_manifest

    if not (Path(args.dataset) / "manifest.json").exists():
        raise DatasetError(f"{args.dataset} is not a maillog-forensics dataset (no manifest.json)")
    m = read_manifest(args.dataset)
    kinds = m.get("kind_counts", {})
    with _case(args) as case:
        attempts = case.attempts
        flow = case.mail_flow
    from .events.coverage import input_coverage

    problem = input_coverage(kinds, attempts=len(attempts)).problem
    if problem:
        # first, before any number: no answer is not an all-clear
        print(f"CANNOT TELL: {problem}")
    print(
        f"dataset {terminal_safe(args.dataset)}: {m.get('rows', 0):,} events "
        f"from {counted(len(m.get('inputs', [])), 'input')}"
    )
    for i in m.get("inputs", []):
        zone, year = time_inference_text(i)
        print(
            f"  {terminal_safe(i['path'])}  {i['lines']:,} lines  sha256 {i['sha256'][:16]}…  "
            f"tz {zone}  year {year}"
        )
    print("kinds: " + ", ".join(f"{k} {v:,}" for k, v in list(kinds.items())[:15]))
    for line in _auth_summary(attempts):
        print(terminal_safe(line))
    for line in _flow_summary(flow):
        print(terminal_safe(line))
    return 0


def _flow_summary(flow: Any) -> list[str]:
    """pflogsumm's Grand Totals, the same numbers as ``summary.json["mail_flow"]``."""
    from .tables.mail_flow import GRAND_TOTAL_KEYS, deferrals, grand_totals, rejected_percent

    t = grand_totals(flow)
    out = [
        "mail flow (pflogsumm's grand totals): "
        + ", ".join(f"{k.replace('_', ' ')} {t[k]:,}" for k in GRAND_TOTAL_KEYS[:9]),
        f"  {deferrals(flow):,} deferrals; {rejected_percent(t)}% rejected; "
        f"bytes received {t['bytes_received']:,}, bytes delivered {t['bytes_delivered']:,}",
        f"  senders {t['senders']:,} from {t['sending_hosts']:,} hosts/domains; "
        f"recipients {t['recipients']:,} at {t['recipient_hosts']:,} hosts/domains",
    ]
    repeated = flow[flow["weight"] > 1]
    if len(repeated):
        out.append(
            f"  {len(repeated):,} 'message repeated' lines counted as {int(repeated['weight'].sum()):,} "
            "messages (pflogsumm skips them)"
        )
    return out


def _auth_summary(a: Any) -> list[str]:
    """A few lines on who tried to log in, and who got in (no passwords).

    The counts are :func:`~maillog_forensics.tables.login_counts.login_counts`, as in the
    report's verdict and ``summary.json``.
    """
    from .tables.auth import FAILED_OUTCOMES
    from .tables.login_counts import login_counts

    if len(a) == 0:
        return ["authentication: no attempts in the logs"]
    counts = a["outcome"].value_counts()
    c = login_counts(a)
    out = [
        f"authentication: {len(a):,} attempts from {a['client_ip'].nunique():,} addresses: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        f"  {c.failed_sentence()}; {c.succeeded:,} successful",
    ]
    backend = c.server_error_sentence()
    if backend:
        out.append(f"  {backend}")
    failed = a[a["outcome"].isin(list(FAILED_OUTCOMES))]
    if len(failed):
        out.append("  most failed logins:")
        top = failed.groupby("client_ip").agg(n=("outcome", "size"), users=("username", "nunique"))
        for ip, row in top.sort_values("n", ascending=False).head(5).iterrows():
            names = counted(int(row["users"]), "user name")
            out.append(f"    {ip or '(no address)'}: {row['n']:,} failed, {names}")
    ok = a[a["outcome"] == "succeeded"]
    if len(ok):
        bad_ips = set(failed["client_ip"])
        out.append("  successful logins:")
        for (user, ip), grp in ok.groupby(["username", "client_ip"], dropna=False):
            note = "  <- this address also failed logins" if ip in bad_ips else ""
            name = user if isinstance(user, str) else "(user not logged: silent success)"
            out.append(f"    {name} from {ip}: {len(grp)}{note}")
    leaked = a[a["credentials_logged"] == True]  # noqa: E712
    if len(leaked):
        out.append(
            "  WARNING: the server logged credentials for "
            f"{counted(leaked['session_id'].nunique(), 'session')} "
            "(smtpd_tls_loglevel = 4 or debug_peer_list): see `maillog-forensics export attempts`"
        )
    return out


if __name__ == "__main__":
    raise SystemExit(main())
