"""The mail-flow pieces of a report: pflogsumm's numbers for the case, tables to read,
``summary.json["mail_flow"]``, and each compromised account's mail before and after.

All of it is computed from :attr:`Case.mail_flow` (the lines pflogsumm counts); see
:mod:`maillog_forensics.tables.mail_flow` for what counts as what.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..tables.mail_flow import accounts, connections, parties, problems, totals, traffic
from .case import Case

__all__ = [
    "account_flow",
    "compromise_times",
    "flow_days",
    "flow_sentence",
    "flow_summary",
    "grand_totals_table",
]

_LABELS = {
    "received": "received",
    "delivered": "delivered",
    "forwarded": "forwarded",
    "deferred": "deferred (messages)",
    "bounced": "bounced",
    "rejected": "rejected",
    "reject_warnings": "reject warnings",
    "held": "held",
    "discarded": "discarded",
    "bytes_received": "bytes received",
    "bytes_delivered": "bytes delivered",
    "senders": "senders",
    "sending_hosts": "sending hosts/domains",
    "recipients": "recipients",
    "recipient_hosts": "recipient hosts/domains",
}


def grand_totals_table(case: Case) -> pd.DataFrame:
    """pflogsumm's Grand Totals as a two-column table (``what``, ``count``)."""
    got = totals.grand_totals(case.mail_flow)
    got_deferrals = totals.deferrals(case.mail_flow)
    rows = [(label, got[key]) for key, label in _LABELS.items()]
    rows.insert(4, ("deferrals (attempts)", got_deferrals))
    return pd.DataFrame(rows, columns=["what", "count"])


def compromise_times(case: Case) -> dict[str, pd.Timestamp]:
    """When each compromised account was taken over (its first compromise finding)."""
    f = case.findings
    hits = f[(f["kind"] == "account_compromised") & f["subject_username"].notna()]
    first = hits.groupby("subject_username")["first_seen"].min()
    return {str(k): pd.Timestamp(v) for k, v in first.items()}


def account_flow(case: Case) -> pd.DataFrame:
    """Outbound mail per SASL account; a compromised one split at its takeover."""
    return accounts.outbound_by_account(case.mail_flow, compromised=compromise_times(case))


def flow_days(case: Case, *, tz: str = "UTC") -> pd.DataFrame:
    """Traffic per day (with its own year), each beside the log's usual (median) day."""
    days = traffic.usual_day(traffic.per_day(case.mail_flow, tz=tz))
    return days.reset_index().rename(columns={"day": f"day ({tz})"})


def flow_sentence(summary: dict[str, Any]) -> str:
    """One sentence of the mail flow for the incident report and ``index.html``.

    Examples
    --------
    >>> flow_sentence({"received": 14, "delivered": 22, "deferred": 0, "bounced": 1, "rejected": 6,
    ...     "rejected_percent": 21, "days": 1})
    'Mail flow: 14 messages received, 22 delivered, 0 deferred, 1 bounced, 6 rejected (21%) in 1 day.'
    """
    days = summary.get("days", 0)
    return (
        f"Mail flow: {summary['received']:,} messages received, {summary['delivered']:,} delivered, "
        f"{summary['deferred']:,} deferred, {summary['bounced']:,} bounced, {summary['rejected']:,} "
        f"rejected ({summary['rejected_percent']}%) in {days:,} day{'s' if days != 1 else ''}."
    )


def flow_summary(case: Case, *, top: int = 10) -> dict[str, Any]:
    """``summary.json["mail_flow"]``: pflogsumm's Grand Totals (same keys), then the rest.

    ``counted_like_pflogsumm`` holds the totals with ``message repeated`` lines skipped, as
    pflogsumm skips them (equal to the totals when the log has none).
    """
    flow = case.mail_flow
    got: dict[str, Any] = dict(totals.grand_totals(flow))
    got["deferrals"] = totals.deferrals(flow)
    got["rejected_percent"] = totals.rejected_percent(got)
    got["discarded_percent"] = totals.rejected_percent(got, "discarded")
    repeated = flow[flow["weight"] > 1]
    got["message_repeated_lines"] = len(repeated)
    got["message_repeated_occurrences"] = int(repeated["weight"].sum())
    got["counted_like_pflogsumm"] = totals.grand_totals(flow, count_repeats=False)
    for level in ("warning", "fatal", "panic"):
        got[f"{level}s"] = int(flow.loc[flow["event"] == level, "weight"].sum())
    got["smtpd"] = connections.connection_summary(connections.connections(flow))
    days = traffic.per_day(flow)
    got["days"] = len(days)
    got["per_day"] = [{"day": str(d), **{k: int(v) for k, v in r.items()}} for d, r in days.iterrows()]
    rejects = problems.rejects_by_reason(problems.rejects(flow)).head(top)
    got["rejects_by_reason"] = rejects.to_dict("records")
    got["top_senders"] = [
        {"sender": k, "messages": int(v)} for k, v in parties.senders(flow)["messages"].head(top).items()
    ]
    got["top_recipient_domains"] = [
        {"domain": k, "sent": int(r["sent"]), "bytes": int(r["bytes"])}
        for k, r in parties.delivery_domains(flow).head(top).iterrows()
    ]
    return got
