"""Who sent and who received: senders, recipients and their domains, by count and by size.

pflogsumm's "Host/Domain Summary" sections and its four "Senders/Recipients by message
count/size" lists, plus the largest messages.
"""

from __future__ import annotations

import pandas as pd

from .totals import counted, delivered_sizes, queued_messages

__all__ = ["delivery_domains", "largest_messages", "received_domains", "recipients", "senders"]


def delivery_domains(flow: pd.DataFrame, *, count_repeats: bool = True) -> pd.DataFrame:
    """Per recipient domain: ``sent``, ``bytes``, ``defers``, ``avg_delay``, ``max_delay`` (s).

    The delays are Postfix's ``delay=``: the average over sent deliveries, the maximum
    over sent and deferred ones. Sorted by sent count, then bytes, largest first.
    """
    flow = counted(flow, count_repeats=count_repeats)
    sent = flow[flow["event"] == "delivered"].assign(bytes=delivered_sizes(flow))
    deferred = flow[flow["event"] == "deferred"]
    by_sent = sent.groupby("domain").agg(
        sent=("weight", "sum"), bytes=("bytes", "sum"), delay_sum=("delay", "sum")
    )
    by_defer = deferred.groupby("domain").agg(defers=("weight", "sum"))
    delays = pd.concat([sent[["domain", "delay"]], deferred[["domain", "delay"]]])
    max_delay = delays.groupby("domain")["delay"].max().rename("max_delay")
    table = by_sent.join(by_defer, how="outer").join(max_delay, how="left")
    table[["sent", "bytes", "defers"]] = table[["sent", "bytes", "defers"]].fillna(0).astype("int64")
    table["avg_delay"] = (table["delay_sum"] / table["sent"]).where(table["sent"] > 0, 0.0).fillna(0.0)
    table["max_delay"] = table["max_delay"].fillna(0.0)
    table = table.drop(columns=["delay_sum"]).sort_values(["sent", "bytes"], ascending=False)
    table.index.name = "domain"
    return table[["sent", "bytes", "defers", "avg_delay", "max_delay"]]


def received_domains(flow: pd.DataFrame) -> pd.DataFrame:
    """Per sending host/domain of received messages: ``messages``, ``bytes`` (largest first)."""
    queued = queued_messages(flow)
    mine = queued.loc[queued["received"].astype(bool)]
    table = mine.groupby("sending_domain").agg(messages=("queue_id", "size"), bytes=("size", "sum"))
    table.index.name = "domain"
    return table.astype("int64").sort_values(["messages", "bytes"], ascending=False)


def senders(flow: pd.DataFrame, *, by: str = "messages") -> pd.DataFrame:
    """Per sender of received messages: ``messages`` and ``bytes``, sorted by ``by``."""
    queued = queued_messages(flow)
    mine = queued.loc[queued["received"].astype(bool)]
    table = mine.groupby("sender").agg(messages=("queue_id", "size"), bytes=("size", "sum"))
    return table.astype("int64").sort_values([by, "sender"], ascending=[False, True])


def recipients(flow: pd.DataFrame, *, by: str = "messages", count_repeats: bool = True) -> pd.DataFrame:
    """Per recipient of delivered messages: ``messages`` (deliveries) and ``bytes``."""
    flow = counted(flow, count_repeats=count_repeats)
    sent = flow[flow["event"] == "delivered"].assign(bytes=delivered_sizes(flow))
    table = sent.groupby("address").agg(messages=("weight", "sum"), bytes=("bytes", "sum"))
    table.index.name = "recipient"
    return table.astype("int64").sort_values([by, "recipient"], ascending=[False, True])


def largest_messages(flow: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """The ``top`` largest messages: ``queue_id``, ``ts``, ``sender``, ``size``, ``client``."""
    queued = queued_messages(flow)
    cols = ["queue_id", "ts", "sender", "size", "client", "received"]
    return queued.sort_values(["size", "pos"], ascending=[False, True]).head(top)[cols].reset_index(drop=True)
