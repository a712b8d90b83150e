"""pflogsumm's Grand Totals, counted the same way, from the :func:`~.lines.flow_lines` table."""

from __future__ import annotations

import pandas as pd

from .addresses import map_unique, sender_domain

__all__ = [
    "GRAND_TOTAL_KEYS",
    "counted",
    "deferrals",
    "delivered_sizes",
    "grand_totals",
    "queued_messages",
    "rejected_percent",
]

#: the keys of ``summary.json["mail_flow"]`` that are pflogsumm's Grand Totals, in its order
GRAND_TOTAL_KEYS: tuple[str, ...] = (
    "received",
    "delivered",
    "forwarded",
    "deferred",
    "bounced",
    "rejected",
    "reject_warnings",
    "held",
    "discarded",
    "bytes_received",
    "bytes_delivered",
    "senders",
    "sending_hosts",
    "recipients",
    "recipient_hosts",
)

_LINE_EVENTS = {
    "received": "received",
    "delivered": "delivered",
    "forwarded": "forwarded",
    "bounced": "bounced",
    "rejected": "rejected",
    "reject_warnings": "reject_warning",
    "held": "held",
    "discarded": "discarded",
}


def counted(flow: pd.DataFrame, *, count_repeats: bool = True) -> pd.DataFrame:
    """The flow lines with their weight: ``N`` for a ``message repeated N times`` line.

    ``count_repeats=False`` drops those lines, as pflogsumm does (it reads their text as
    a message of its own and counts nothing).
    """
    if count_repeats:
        return flow
    return flow[flow["weight"] <= 1].assign(weight=1)


def queued_messages(flow: pd.DataFrame) -> pd.DataFrame:
    """The first ``from=, size=`` line of each queue id, with whether it was received here.

    Columns: ``queue_id``, ``pos``, ``ts``, ``sender`` (as pflogsumm lists it), ``size``,
    ``received`` (a ``client=``/pickup line of that queue id came before), ``client``,
    ``sasl_username`` and ``received_ts`` (of that line), and ``sending_domain``.
    """
    queued = flow[flow["event"] == "queued"].drop_duplicates("queue_id", keep="first")
    got = flow[flow["event"] == "received"][["queue_id", "pos", "ts", "client", "sasl_username"]]
    got = got.rename(columns={"ts": "received_ts"})
    if queued.empty:
        return pd.DataFrame(
            columns=[
                "queue_id",
                "pos",
                "ts",
                "sender",
                "size",
                "received",
                "client",
                "sasl_username",
                "received_ts",
                "sending_domain",
            ]
        )
    # the latest received line of the queue id before its first size line
    left = queued[["queue_id", "pos", "ts", "address", "size"]].sort_values("pos")
    right = got.rename(columns={"pos": "received_pos"}).sort_values("received_pos")
    joined = pd.merge_asof(
        left,
        right.astype({"received_pos": left["pos"].dtype}),
        left_on="pos",
        right_on="received_pos",
        by="queue_id",
        direction="backward",
    )
    joined["received"] = joined["received_pos"].notna()
    joined = joined.rename(columns={"address": "sender"})
    joined["size"] = pd.to_numeric(joined["size"], errors="coerce").fillna(0).astype("int64")
    pairs = joined["sender"].fillna("") + "\0" + joined["client"].fillna("")
    joined["sending_domain"] = map_unique(pairs, _pair_domain)
    joined.loc[~joined["received"], "sending_domain"] = None
    return joined.drop(columns=["received_pos"]).sort_values("pos").reset_index(drop=True)


def _pair_domain(pair: str) -> str:
    sender, _, client = pair.partition("\0")
    return sender_domain(sender, client)


def delivered_sizes(flow: pd.DataFrame) -> pd.Series:
    """The message size of each delivered line: its queue id's first size line, when before it."""
    sent = flow[flow["event"] == "delivered"]
    first = flow[flow["event"] == "queued"].drop_duplicates("queue_id", keep="first")
    sizes = sent[["queue_id", "pos"]].merge(
        first[["queue_id", "pos", "size"]].rename(columns={"pos": "size_pos"}), on="queue_id", how="left"
    )
    size = pd.to_numeric(sizes["size"], errors="coerce").fillna(0)
    size = size.where(sizes["size_pos"].lt(sizes["pos"]).fillna(False), 0)
    return pd.Series(size.astype("int64").to_numpy(), index=sent.index)


def grand_totals(flow: pd.DataFrame, *, count_repeats: bool = True) -> dict[str, int]:
    """pflogsumm's Grand Totals (:data:`GRAND_TOTAL_KEYS`).

    ``received`` counts smtpd/postscreen ``client=`` and pickup lines; ``delivered``,
    ``forwarded`` and ``bounced`` delivery lines; ``deferred`` the queue ids with a
    deferral (the deferrals themselves: :func:`deferrals`); ``rejected``,
    ``reject_warnings``, ``held``, ``discarded`` the SMTP and cleanup actions;
    ``bytes_received`` the sizes of received messages, ``bytes_delivered`` the size of the
    message of each delivery; ``senders``/``sending_hosts`` the distinct senders and their
    domains of received messages, ``recipients``/``recipient_hosts`` those of deliveries.

    Examples
    --------
    >>> import pandas as pd
    >>> from .lines import FLOW_COLUMNS
    >>> grand_totals(pd.DataFrame(columns=FLOW_COLUMNS))["received"]
    0
    """
    flow = counted(flow, count_repeats=count_repeats)
    weight = flow.groupby("event")["weight"].sum()
    out = {key: int(weight.get(event, 0)) for key, event in _LINE_EVENTS.items()}
    out["deferred"] = int(flow.loc[flow["event"] == "deferred", "queue_id"].nunique())
    queued = queued_messages(flow)
    mine = queued.loc[queued["received"].astype(bool)]
    out["bytes_received"] = int(mine["size"].sum())
    out["bytes_delivered"] = int(delivered_sizes(flow).sum())
    out["senders"] = int(mine["sender"].nunique())
    out["sending_hosts"] = int(mine["sending_domain"].nunique())
    sent = flow[flow["event"] == "delivered"]
    out["recipients"] = int(sent["address"].nunique())
    out["recipient_hosts"] = int(sent["domain"].nunique())
    return {key: out[key] for key in GRAND_TOTAL_KEYS}


def deferrals(flow: pd.DataFrame, *, count_repeats: bool = True) -> int:
    """Deferred delivery attempts (pflogsumm's "(N deferrals)")."""
    flow = counted(flow, count_repeats=count_repeats)
    return int(flow.loc[flow["event"] == "deferred", "weight"].sum())


def rejected_percent(totals: dict[str, int], key: str = "rejected") -> int:
    """pflogsumm's percentage beside "rejected" (or "discarded"): of delivered + rejected + discarded.

    Examples
    --------
    >>> rejected_percent({"delivered": 22, "rejected": 6, "discarded": 0})
    21
    """
    whole = totals["delivered"] + totals["rejected"] + totals["discarded"]
    return int(totals[key] / whole * 100) if whole else 0
