"""Message lifecycles (one row per queue id lifecycle) and deliveries (one row per attempt).

Lines are collated by ``(host, instance, queue_id)`` as Postfix's own ``collate.pl``
does: ``client=`` (smtpd, with the SASL user) or ``uid= from=`` (pickup), ``message-id=``
(cleanup), ``from= size= nrcpt=`` (qmgr), one line per delivery attempt, and ``removed``,
which ends the lifecycle (short queue ids are reused later). A bounce or delay
notification links the message to the notification's own queue id; a message that a
content filter re-injected (a second queue id for the same Message-ID on the same host)
names the queue id it came from instead of being counted twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..events.schema import EventRows
from .sessions import (
    group_lists,
    group_numbers,
    hex_ids,
    provenance,
    same_lines,
    session_ids_of_rows,
    text_column,
    value_codes,
)

__all__ = ["DELIVERY_COLUMNS", "MESSAGE_COLUMNS", "deliveries_from_events", "messages_from_events"]

MESSAGE_COLUMNS = [
    "msg_uid",
    "host",
    "instance",
    "queue_id",
    "session_id",
    "client_name",
    "client_ip",
    "sasl_method",
    "sasl_username",
    "message_id",
    "sender",
    "size",
    "nrcpt",
    "recipients",
    "delivered",
    "deferred",
    "bounced",
    "first_seen",
    "removed_at",
    "final_status",
    "relays",
    "notifications",
    "reinjection_of",
    "rejected",
    "n_lines",
    "first_line",
    "last_line",
]

DELIVERY_COLUMNS = [
    "msg_uid",
    "ts",
    "host",
    "instance",
    "queue_id",
    "daemon",
    "recipient",
    "orig_to",
    "relay",
    "delay",
    "delays",
    "dsn",
    "status",
    "reason",
    "source_file",
    "line_no",
]

_KEYS = ["host", "instance", "queue_id"]

#: event columns messages_from_events reads (pass ``columns=`` to load_events to save memory)
EVENT_COLUMNS = [
    *_KEYS,
    "ts",
    "daemon",
    "service",
    "pid",
    "kind",
    "client_name",
    "client_ip",
    "sasl_method",
    "sasl_username",
    "message_id",
    "sender",
    "size",
    "nrcpt",
    "recipient",
    "orig_to",
    "relay",
    "delay",
    "delays",
    "dsn",
    "status",
    "reason",
    "action",
    "linked_queue_id",
    "source_file",
    "line_no",
]


#: rows it reads: lines with a queue id, and the smtpd lines that tell which session
#: submitted each message (``load_events(..., rows=EVENT_ROWS)``)
EVENT_ROWS = EventRows(daemons=("smtpd",), queue_id=True)
#: only the lines with a queue id: on a large dataset, load these (``EVENT_COLUMNS``) and
#: the smtpd lines with ``sessions.PLACEMENT_COLUMNS`` apart, and pass both to
#: :func:`messages_from_events` (``smtpd_lines=``): the smtpd lines only say which
#: session a message came from, and most of ``EVENT_COLUMNS`` is empty on them
QUEUE_ROWS = EventRows(queue_id=True)
SMTPD_ROWS = EventRows(daemons=("smtpd",))

_LIFECYCLE_COLUMNS = [
    *_KEYS,
    "kind",
    "ts",
    "status",
    "action",
    "recipient",
    "relay",
    "linked_queue_id",
    "source_file",
    "line_no",
]


def _lifecycles(events: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    qid = events["queue_id"]
    mask = qid.notna() & (qid != "NOQUEUE") & events["instance"].notna()
    rows = np.flatnonzero(mask.to_numpy())
    # number the queue ids as groupby(_KEYS).ngroup() would, from integer codes
    group = group_numbers([value_codes(events[c].array.take(rows)) for c in _KEYS])
    # rows are in log order: a stable sort by queue id keeps log order within one
    order = np.argsort(group, kind="stable")
    rows, group = rows[order], group[order]
    cols = list(dict.fromkeys([*_LIFECYCLE_COLUMNS, *(columns or [])]))
    # one copy of the lines, already in that order
    ev = events[[c for c in cols if c in events.columns]].take(rows)
    ev["_row"] = rows
    removed = (ev["kind"] == "removed").to_numpy()
    new = np.ones(len(ev), dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | removed[:-1]
    ev["_msg"] = np.cumsum(new) - 1
    ev["_kind"] = ev["kind"]
    return ev


def _uid(frame: pd.DataFrame) -> Any:
    return text_column(hex_ids(frame))


def messages_from_events(events: pd.DataFrame, *, smtpd_lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per queue id lifecycle.

    Parameters
    ----------
    events
        Event frame from :func:`maillog_forensics.load_events`.
    smtpd_lines
        The smtpd lines (``sessions.PLACEMENT_COLUMNS``, rows ``SMTPD_ROWS``) of the same
        dataset and window, if ``events`` holds only the lines with a queue id
        (``QUEUE_ROWS``): they place each message's ``client=`` line in its session.

    Returns
    -------
    pandas.DataFrame
        ``MESSAGE_COLUMNS``: who submitted it (``session_id``, client, SASL user), the
        envelope, recipients (list), counts of delivery attempts that ended ``sent`` /
        ``deferred`` / ``bounced``, ``final_status`` (``sent``, ``bounced``,
        ``deferred``, ``expired``, ``rejected``, ``in queue``), relays (list), queue ids
        of notifications it caused, and ``reinjection_of`` for content-filter copies.
    """
    ev = _lifecycles(events)
    if ev.empty:
        return pd.DataFrame(columns=MESSAGE_COLUMNS)
    msg = ev["_msg"].to_numpy()
    rows = ev["_row"].to_numpy()
    n = int(msg[-1]) + 1
    starts = np.flatnonzero(np.r_[True, msg[1:] != msg[:-1]])
    ends = np.r_[starts[1:] - 1, len(msg) - 1]
    kind = ev["kind"]
    status = ev["status"].where(kind == "delivery")

    def count(mask: pd.Series) -> np.ndarray:
        return np.bincount(msg, weights=mask.to_numpy(), minlength=n).astype("int64")

    def pick_rows(mask: np.ndarray) -> np.ndarray:
        """Row (in events) of each message's first line with ``mask``, -1 if none."""
        pos = np.flatnonzero(mask)
        first = np.flatnonzero(np.r_[True, msg[pos][1:] != msg[pos][:-1]]) if len(pos) else pos
        pick = np.full(n, -1, dtype=np.int64)
        pick[msg[pos][first]] = rows[pos][first]
        return pick

    def take(col: str, pick: np.ndarray) -> Any:
        return events[col].array.take(pick, allow_fill=True)

    out = pd.DataFrame(
        {
            "host": ev["host"].array.take(starts),
            "instance": ev["instance"].array.take(starts),
            "queue_id": ev["queue_id"].array.take(starts),
            "first_seen": ev["ts"].array.take(starts),
            "n_lines": ends - starts + 1,
            "delivered": count(status == "sent"),
            "deferred": count(status == "deferred"),
            "bounced": count(status == "bounced"),
            "expired": count(kind == "expired") > 0,
            "rejected": count(ev["action"].isin(["reject", "milter-reject", "discard", "milter-discard"]))
            > 0,
        }
    )
    client = pick_rows((kind == "client").to_numpy())
    for col in ("client_name", "client_ip", "sasl_method", "sasl_username"):
        out[col] = take(col, client)
    out["orig_qid"] = take("linked_queue_id", client)
    out["message_id"] = take("message_id", pick_rows((kind == "message_id").to_numpy()))
    active = pick_rows((kind == "queue_active").to_numpy())
    pickup = pick_rows((kind == "pickup").to_numpy())
    out["sender"] = pd.Series(take("sender", active)).fillna(pd.Series(take("sender", pickup))).array
    out["size"] = pd.array(take("size", active), dtype="Int64")
    out["nrcpt"] = pd.array(take("nrcpt", active), dtype="Int32")
    out["removed_at"] = take("ts", pick_rows((kind == "removed").to_numpy()))
    first_file = ev["source_file"].array.take(starts)
    first_no = ev["line_no"].array.take(starts)
    out["msg_uid"] = _uid(pd.DataFrame({"f": np.asarray(first_file, dtype=object), "n": first_no}))
    out["first_line"] = provenance(first_file, first_no)
    out["last_line"] = provenance(ev["source_file"].array.take(ends), ev["line_no"].array.take(ends))
    index = pd.RangeIndex(n)
    deliveries = (kind == "delivery").to_numpy()
    out["recipients"] = _lists(ev, deliveries, "recipient", index)
    out["relays"] = _lists(ev, deliveries, "relay", index)
    out["notifications"] = _lists(ev, (kind == "bounce_notification").to_numpy(), "linked_queue_id", index)
    out["final_status"] = _final_status(ev, out)
    out["session_id"] = _session_of_client(events, client, n, smtpd_lines)
    out["reinjection_of"] = _reinjection_of(out)
    order = np.argsort(rows[starts], kind="stable")
    return out.iloc[order].reset_index(drop=True)[MESSAGE_COLUMNS]


def _lists(ev: pd.DataFrame, mask: np.ndarray, col: str, index: pd.Index) -> pd.Series:
    """Distinct values of ``col`` per message, in log order."""
    # masked before converting: only these lines' values become Python objects
    vals = pd.DataFrame({"_msg": ev["_msg"].to_numpy()[mask], col: ev[col].array[mask]}).dropna()
    vals = vals.assign(**{col: vals[col].astype(str)}).drop_duplicates()
    return group_lists(vals["_msg"].to_numpy(), vals[col].to_numpy(), index)


def _final_status(ev: pd.DataFrame, out: pd.DataFrame) -> pd.Series:
    """Last delivery status per recipient, summarised for the message."""
    d = ev.loc[ev["_kind"] == "delivery", ["_msg", "recipient", "status"]]
    last = d.drop_duplicates(["_msg", "recipient"], keep="last")
    st = last["status"].astype(str)
    per = (
        pd.DataFrame(
            {
                "_msg": last["_msg"].to_numpy(),
                "sent": (st == "sent").to_numpy(),
                "deferred": (st == "deferred").to_numpy(),
                "bounced": st.isin(["bounced", "expired"]).to_numpy(),
                "n": 1,
            }
        )
        .groupby("_msg")
        .sum()
    )
    per = per.reindex(out.index)
    status = np.select(
        [
            per["deferred"].fillna(0).to_numpy() > 0,
            per["bounced"].fillna(0).to_numpy() > 0,
            (per["sent"] == per["n"]).fillna(False).to_numpy() & per["n"].notna().to_numpy(),
            per["n"].notna().to_numpy(),
        ],
        ["deferred", "bounced", "sent", "other"],
        default="in queue",
    ).astype(object)
    no_delivery = per["n"].isna().to_numpy()
    status[out["expired"].to_numpy()] = "expired"
    rejected = out["rejected"].to_numpy()
    status[no_delivery & rejected] = "rejected"
    status[no_delivery & ~rejected & out["removed_at"].notna().to_numpy()] = "removed"
    return pd.Series(status, index=out.index, dtype=object)


def _session_of_client(
    events: pd.DataFrame, client_rows: np.ndarray, n: int, smtpd_lines: pd.DataFrame | None
) -> np.ndarray:
    """session_id of the smtpd session whose ``client=`` line created each message."""
    if smtpd_lines is not None:  # the same lines among the smtpd lines loaded apart
        client_rows = same_lines(events, client_rows, smtpd_lines)
        events = smtpd_lines
    out = np.full(n, None, dtype=object)
    has = client_rows >= 0
    if has.any():
        out[has] = session_ids_of_rows(events, client_rows[has])
    return out


def _reinjection_of(out: pd.DataFrame) -> pd.Series:
    """Queue id of the earlier copy of the same message (content filter re-injection)."""
    result = pd.Series(pd.NA, index=out.index, dtype=object)
    has_orig = out["orig_qid"].notna()
    result[has_orig] = out.loc[has_orig, "orig_qid"]
    mid = out["message_id"]
    cand = out.loc[mid.notna() & (mid != ""), ["host", "message_id", "queue_id", "first_seen"]]
    cand = cand.sort_values("first_seen", kind="stable")
    prev = cand.groupby(["host", "message_id"], sort=False)["queue_id"].shift(1)
    take = prev.notna() & result.loc[prev.index].isna()
    result.loc[take[take].index] = prev[take]
    return result


def deliveries_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """One row per delivery attempt (``to=... status=...`` line), for group-bys."""
    ev = _lifecycles(events, [c for c in DELIVERY_COLUMNS if c != "msg_uid"])
    d = ev.loc[ev["_kind"] == "delivery"]
    if d.empty:
        return pd.DataFrame(columns=DELIVERY_COLUMNS)
    firsts = ev.groupby("_msg", sort=False)[["source_file", "line_no"]].first()
    uid = pd.Series(
        _uid(pd.DataFrame({"f": firsts["source_file"].astype("object"), "n": firsts["line_no"]})),
        index=firsts.index,
    )
    out = d.assign(msg_uid=uid.reindex(d["_msg"].to_numpy()).to_numpy())
    return out.sort_values("_row", kind="stable").reset_index(drop=True)[DELIVERY_COLUMNS]
