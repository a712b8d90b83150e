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

import numpy as np
import pandas as pd

from .sessions import group_lists, session_lines

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


def _lifecycles(events: pd.DataFrame) -> pd.DataFrame:
    qid = events["queue_id"].astype("object")
    mask = qid.notna() & (qid != "NOQUEUE") & events["instance"].notna()
    ev = events.loc[mask].copy()
    ev["_row"] = np.flatnonzero(mask.to_numpy())
    group = ev.groupby(_KEYS, dropna=False, observed=True, sort=False).ngroup().to_numpy()
    order = np.lexsort((ev["_row"].to_numpy(), group))
    ev = ev.iloc[order]
    group = group[order]
    removed = (ev["kind"] == "removed").to_numpy()
    new = np.ones(len(ev), dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | removed[:-1]
    ev["_msg"] = np.cumsum(new) - 1
    ev["_kind"] = ev["kind"]
    return ev


def _uid(frame: pd.DataFrame) -> np.ndarray:
    h = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return np.array([f"{v:016x}" for v in h.tolist()], dtype=object)


def messages_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """One row per queue id lifecycle.

    Parameters
    ----------
    events
        Event frame from :func:`maillog_forensics.load_events`.

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
    kind = ev["_kind"]
    is_client = kind == "client"
    is_active = kind == "queue_active"
    is_delivery = kind == "delivery"
    status = ev["status"].where(is_delivery)
    w = pd.DataFrame(
        {
            "_msg": ev["_msg"].to_numpy(),
            "host": ev["host"].array,
            "instance": ev["instance"].array,
            "queue_id": ev["queue_id"].array,
            "ts": ev["ts"].array,
            "client_name": ev["client_name"].where(is_client).array,
            "client_ip": ev["client_ip"].where(is_client).array,
            "sasl_method": ev["sasl_method"].where(is_client).array,
            "sasl_username": ev["sasl_username"].where(is_client).array,
            "orig_qid": ev["linked_queue_id"].where(is_client).array,
            "message_id": ev["message_id"].where(kind == "message_id").array,
            "sender": ev["sender"].where(is_active | (kind == "pickup")).array,
            "size": ev["size"].where(is_active).array,
            "nrcpt": ev["nrcpt"].where(is_active).array,
            "removed_ts": ev["ts"].where(kind == "removed").array,
            "sent": (status == "sent").to_numpy(),
            "deferred": (status == "deferred").to_numpy(),
            "bounced": (status == "bounced").to_numpy(),
            "expired": (kind == "expired").to_numpy(),
            "rejected": ev["action"]
            .isin(["reject", "milter-reject", "discard", "milter-discard"])
            .to_numpy(),
            "source_file": ev["source_file"].array,
            "line_no": ev["line_no"].array,
        }
    )
    g = w.groupby("_msg", sort=True)
    out = g[
        [
            "host",
            "instance",
            "queue_id",
            "client_name",
            "client_ip",
            "sasl_method",
            "sasl_username",
            "orig_qid",
            "message_id",
            "sender",
            "size",
            "nrcpt",
            "removed_ts",
        ]
    ].first()
    agg = g.agg(
        first_seen=("ts", "first"),
        delivered=("sent", "sum"),
        deferred=("deferred", "sum"),
        bounced=("bounced", "sum"),
        expired=("expired", "any"),
        rejected=("rejected", "any"),
        n_lines=("ts", "size"),
        first_file=("source_file", "first"),
        first_no=("line_no", "first"),
        last_file=("source_file", "last"),
        last_no=("line_no", "last"),
    )
    out = out.join(agg)
    out["removed_at"] = out.pop("removed_ts")
    out["msg_uid"] = _uid(pd.DataFrame({"f": out["first_file"], "n": out["first_no"]}))
    out["first_line"] = out["first_file"].astype(str) + ":" + out["first_no"].astype(str)
    out["last_line"] = out["last_file"].astype(str) + ":" + out["last_no"].astype(str)
    for col in ("delivered", "deferred", "bounced"):
        out[col] = out[col].astype("int64")
    out["size"] = out["size"].astype("Int64")
    out["nrcpt"] = out["nrcpt"].astype("Int32")
    out["recipients"] = _lists(ev.loc[kind == "delivery"], "recipient", out.index)
    out["relays"] = _lists(ev.loc[kind == "delivery"], "relay", out.index)
    out["notifications"] = _lists(ev.loc[kind == "bounce_notification"], "linked_queue_id", out.index)
    out["final_status"] = _final_status(ev, out)
    out["session_id"] = _session_of_client(events, ev, out.index)
    out["reinjection_of"] = _reinjection_of(out)
    return out.reset_index(drop=True)[MESSAGE_COLUMNS]


def _lists(rows: pd.DataFrame, col: str, index: pd.Index) -> pd.Series:
    """Distinct values of ``col`` per message, in log order."""
    vals = rows[["_msg", col]].dropna()
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


def _session_of_client(events: pd.DataFrame, ev: pd.DataFrame, index: pd.Index) -> pd.Series:
    clients = ev.loc[ev["_kind"] == "client", ["_msg", "_row"]]
    out = pd.Series(pd.NA, index=index, dtype=object)
    if clients.empty:
        return out
    lines = session_lines(events)[["row", "session_id"]]
    merged = clients.merge(lines, left_on="_row", right_on="row", how="left")
    first = merged.drop_duplicates("_msg").set_index("_msg")["session_id"]
    out.loc[first.index] = first
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
    ev = _lifecycles(events)
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
