"""What went wrong: rejects by reason and by client, deferrals and bounces by reason,
warnings, fatal errors, panics and master daemon messages (pflogsumm's "problems" reports).

Reasons are grouped the way pflogsumm 1.1.5 groups them, so the counts per reason agree: a
reject's reason is its reply text cut to the restriction's own words (an RBL reject is
``blocked using zen.spamhaus.org``, a sender check ``Sender address rejected: Domain not
found``), listed per SMTP stage, and per client domain, sender or recipient as pflogsumm
does. Long texts are cut as pflogsumm cuts them (``...``), which also groups them.
"""

from __future__ import annotations

import re

import pandas as pd

from .addresses import client_domain
from .totals import counted

__all__ = [
    "REJECT_COLUMNS",
    "bounces_by_reason",
    "deferrals_by_reason",
    "master_messages",
    "reject_category",
    "reject_detail",
    "rejects",
    "rejects_by_client",
    "rejects_by_reason",
    "trim",
    "warnings_by_text",
]

#: columns of :func:`rejects`
REJECT_COLUMNS = ["event", "stage", "reason", "detail", "client", "category", "weight", "ts"]

_ACTION = re.compile(r"^.* \b(?:reject(?:_warning)?|hold|discard): (\S+) from (\S+?): (.*)$")


def trim(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, ``...`` included (pflogsumm's display width).

    Examples
    --------
    >>> trim("abcdefgh", 6)
    'abc...'
    >>> trim("abc", 6)
    'abc'
    """
    return text if len(text) <= width else text[: width - 3] + "..."


def said_trim(text: str, width: int) -> str:
    """Shorten a server reply to ``width``: drop what precedes ``said:``, then each ``x: ``.

    Examples
    --------
    >>> said_trim("host mx.example.com[192.0.2.1] said: 550 5.1.1 no such user "
    ...     "(in reply to RCPT TO command)", 40)
    '550 5.1.1 no such user (in reply to R...'
    """
    while len(text) > width:
        if re.search(r"^.* said: ", text):
            text = re.sub(r"^.* said: ", "", text, count=1)
        elif re.search(r"^.*: *", text):
            text = re.sub(r"^.*?: *", "", text, count=1)
        else:
            return text[: width - 3] + "..."
    return text


def _reason(stage: str, rest: str) -> str:
    """The restriction's words in a reject reply (pflogsumm's rules, per stage)."""
    if stage in ("RCPT", "DATA", "CONNECT"):
        # an address or HELO name in <> right after the code may hold anything: drop it
        rest = re.sub(r"^([0-9]{3} <).*?(>:)", r"\1\2", rest, count=1)
        rest = re.sub(r"^(?:[0-9]{3} [0-9]\.[0-9]\.[0-9] )(Protocol error);.*$", r"\1", rest, count=1)
        rest = re.sub(r"^(?:.*?[:;] )(?:\[[^\]]+\] )?([^;,]+)[;,].*$", r"\1", rest, count=1)
        rest = re.sub(r"^((?:Sender|Recipient) address rejected: [^:]+):.*$", r"\1", rest, count=1)
        return re.sub(r"(client|Client host|Sender address) .+? blocked", "blocked", rest, count=1)
    if stage == "MAIL":
        return re.sub(r"^[0-9]{3} (?:<.+>: )?([^;:]+)[;:]?.*$", r"\1", rest, count=1)
    return re.sub(r"^(?:.*[:;] )?([^,]+).*$", r"\1", rest, count=1)


def reject_detail(text: str) -> tuple[str, str, str, str]:
    """``(stage, reason, detail, client)`` of an smtpd/postscreen reject line's text.

    ``detail`` is what pflogsumm lists under the reason: the sender for a sender check,
    the recipient for a recipient check, else the client's domain (its address when it has
    no name).

    Examples
    --------
    >>> reject_detail("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; "
    ...     "Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<a@example.org> to=<b@example.net> "
    ...     "proto=ESMTP helo=<x>")
    ('RCPT', 'blocked using zen.spamhaus.org', '192.0.2.1', 'unknown[192.0.2.1]')
    """
    m = _ACTION.match(" " + text)
    if m is None:
        return ("", text, "", "")
    stage, client, rest = m.groups()
    reason = _reason(stage, rest)
    to = re.search(r"to=<([^>]+)>", rest) or re.search(r"[0-9]{3} <([^>]+)>: User unknown ", rest)
    to = to or re.search(r"to=<(.*?)(?:[, ]|$)", rest)
    recipient = to.group(1) if to else "<>"
    sender_m = re.search(r"from=<([^>]+)>", rest)
    sender = sender_m.group(1) if sender_m else "<>"
    if reason.startswith("Sender address rejected:"):
        return (stage, reason, sender, client)
    if re.match(r"^(?:Recipient address rejected:|User unknown(?: |$))", reason):
        return (stage, reason, recipient, client)
    pipelining = re.sub(r"^.*?[0-9]{3} (Improper use of SMTP command pipelining);.*$", r"\1", reason, count=1)
    if pipelining != reason:
        src = re.match(r"^.+? from (\S+?):.*$", " " + text)
        return (stage, pipelining, src.group(1) if src else client, client)
    for pattern, replacement in (
        (r"^.*?[0-9]{3} (Message size exceeds fixed limit);.*$", r"\1"),
        (r"^.*?[0-9]{3} (Server configuration (?:error|problem));.*$", r"(Local) \1"),
    ):
        reason = re.sub(pattern, replacement, reason, count=1)
    return (stage, reason, client_domain(client), client)


def reject_category(reason: str) -> str:
    """A coarse class of a reject reason: RBL, unknown user, relay denied, HELO, sender, ...

    Examples
    --------
    >>> reject_category("blocked using zen.spamhaus.org")
    'RBL'
    >>> reject_category("Relay access denied")
    'relay denied'
    """
    low = reason.lower()
    rules = (
        ("blocked using", "RBL"),
        ("relay access denied", "relay denied"),
        ("user unknown", "unknown user"),
        ("recipient address rejected", "recipient"),
        ("helo command rejected", "HELO"),
        ("sender address rejected", "sender"),
        ("client host rejected", "client"),
        ("pipelining", "pipelining"),
        ("protocol error", "protocol"),
    )
    for needle, name in rules:
        if needle in low:
            return name
    return "other"


def rejects(flow: pd.DataFrame, *, count_repeats: bool = True) -> pd.DataFrame:
    """One row per reject, reject warning, hold or discard (:data:`REJECT_COLUMNS`).

    ``stage`` is the SMTP stage (``cleanup`` for header/body/END-OF-MESSAGE checks, whose
    ``reason`` is ``header``/``body``/``END-OF-MESSAGE`` and ``detail`` the matched text).
    """
    flow = counted(flow, count_repeats=count_repeats)
    rows = flow[flow["event"].isin(["rejected", "reject_warning", "held", "discarded"])]
    records = []
    for event, command, stage, text, weight, ts in zip(
        rows["event"], rows["command"], rows["stage"], rows["text"], rows["weight"], rows["ts"], strict=True
    ):
        if command == "cleanup":
            records.append((event, "cleanup", stage, trim(str(text), 64), "", "content", weight, ts))
            continue
        st, reason, detail, client = reject_detail(str(text))
        records.append((event, st, reason, detail, client, reject_category(reason), weight, ts))
    return pd.DataFrame.from_records(records, columns=REJECT_COLUMNS)


def rejects_by_reason(table: pd.DataFrame, *, event: str = "rejected") -> pd.DataFrame:
    """Count per (stage, reason) of one kind of :func:`rejects` row, largest first."""
    rows = table[table["event"] == event]
    out = rows.groupby(["stage", "reason", "category"])["weight"].sum().rename("count").reset_index()
    return out.sort_values(["count", "stage", "reason"], ascending=[False, True, True]).reset_index(drop=True)


def rejects_by_client(table: pd.DataFrame, *, event: str = "rejected") -> pd.DataFrame:
    """Count per client (``name[addr]``) of one kind of :func:`rejects` row, with its reasons."""
    rows = table[(table["event"] == event) & (table["client"] != "")]
    grouped = rows.groupby("client")
    out = pd.DataFrame(
        {
            "count": grouped["weight"].sum(),
            "categories": grouped["category"].agg(lambda s: ", ".join(sorted(set(s)))),
            "first": grouped["ts"].min(),
            "last": grouped["ts"].max(),
        }
    )
    return out.sort_values(["count"], ascending=False)


def deferrals_by_reason(flow: pd.DataFrame, *, count_repeats: bool = True) -> pd.DataFrame:
    """Deferred delivery attempts per program and reason (pflogsumm's "message deferral detail")."""
    flow = counted(flow, count_repeats=count_repeats)
    rows = flow[flow["event"] == "deferred"]
    reasons = [
        re.sub(r"^connect to ", "", re.sub(r"^[0-9]{3} ", "", said_trim(str(t or ""), 65), count=1), count=1)
        for t in rows["text"]
    ]
    out = rows.assign(reason=reasons).groupby(["command", "reason"])["weight"].sum().rename("count")
    return out.reset_index().sort_values("count", ascending=False).reset_index(drop=True)


def bounces_by_reason(flow: pd.DataFrame, *, count_repeats: bool = True) -> pd.DataFrame:
    """Bounced deliveries per relay and reason (pflogsumm's "message bounce detail (by relay)")."""
    flow = counted(flow, count_repeats=count_repeats)
    rows = flow[flow["event"] == "bounced"]
    reasons = [re.sub(r"^[0-9]{3} ", "", said_trim(str(t or ""), 66), count=1) for t in rows["text"]]
    out = rows.assign(reason=reasons).groupby(["relay", "reason"])["weight"].sum().rename("count")
    return out.reset_index().sort_values("count", ascending=False).reset_index(drop=True)


def warnings_by_text(
    flow: pd.DataFrame, *, level: str = "warning", count_repeats: bool = True
) -> pd.DataFrame:
    """``warning``, ``fatal`` or ``panic`` lines per program and text (cut to 66 characters)."""
    flow = counted(flow, count_repeats=count_repeats)
    rows = flow[flow["event"] == level]
    texts = [trim(str(t), 66) for t in rows["text"]]
    out = rows.assign(text=texts).groupby(["command", "text"])["weight"].sum().rename("count")
    return out.reset_index().sort_values(["command", "count"], ascending=[True, False]).reset_index(drop=True)


def master_messages(flow: pd.DataFrame) -> pd.DataFrame:
    """Master daemon messages (start, reload, stop) with their counts."""
    rows = flow[flow["event"] == "master"]
    out = rows.groupby("text")["weight"].sum().rename("count")
    return out.reset_index().sort_values("count", ascending=False).reset_index(drop=True)
