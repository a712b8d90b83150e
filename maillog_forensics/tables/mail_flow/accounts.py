"""Outbound mail per SASL account, before and after its compromise (beyond pflogsumm).

A message belongs to the account that authenticated the smtpd session which submitted it
(``client=..., sasl_username=``). Its deliveries are the delivery lines of its queue id.
Given when each compromised account was taken over, its traffic is split at that time:
spam sent after a takeover shows as a jump in messages, recipients and recipient domains
per hour.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .totals import queued_messages

__all__ = ["ACCOUNT_COLUMNS", "outbound_by_account"]

#: columns of :func:`outbound_by_account`
ACCOUNT_COLUMNS = [
    "sasl_username",
    "period",
    "first",
    "last",
    "messages",
    "bytes",
    "recipients",
    "delivered",
    "deferred",
    "bounced",
    "recipient_domains",
    "messages_per_hour",
]


def outbound_by_account(
    flow: pd.DataFrame, *, compromised: Mapping[str, pd.Timestamp] | None = None
) -> pd.DataFrame:
    """One row per SASL user (two, ``before``/``after``, for a compromised one).

    ``compromised`` maps a user name to the time of the takeover (UTC); the other users'
    rows have period ``all``. ``messages_per_hour`` is over the span of that period's
    messages (at least one hour).

    Examples
    --------
    >>> from .lines import FLOW_COLUMNS
    >>> outbound_by_account(pd.DataFrame(columns=FLOW_COLUMNS)).empty
    True
    """
    compromised = dict(compromised or {})
    queued = queued_messages(flow)
    mine = queued.loc[queued["received"].astype(bool) & queued["sasl_username"].notna()]
    if mine.empty:
        return pd.DataFrame(columns=ACCOUNT_COLUMNS)
    deliveries = flow[flow["event"].isin(["delivered", "deferred", "bounced", "forwarded"])]
    per_msg = deliveries.groupby(["queue_id", "event"])["weight"].sum().unstack(fill_value=0)
    domains = deliveries[deliveries["event"] == "delivered"][["queue_id", "domain"]]
    # the time of the submission (the client= line), not of the queue manager's line
    msgs = mine[["queue_id", "received_ts", "size", "sasl_username"]].rename(columns={"received_ts": "ts"})
    msgs["ts"] = pd.to_datetime(msgs["ts"], utc=True)
    for col in ("delivered", "deferred", "bounced", "forwarded"):
        got = per_msg[col] if col in per_msg.columns else pd.Series(dtype="int64")
        msgs[col] = msgs["queue_id"].map(got).fillna(0).astype("int64")
    msgs["recipients"] = msgs[["delivered", "deferred", "bounced", "forwarded"]].sum(axis=1)
    takeover = msgs["sasl_username"].map(lambda u: compromised.get(u))
    at = pd.to_datetime(takeover, utc=True)
    msgs["period"] = "all"
    has = at.notna()
    msgs.loc[has, "period"] = (msgs.loc[has, "ts"] >= at[has]).map({True: "after", False: "before"})
    rows = []
    for (user, period), grp in msgs.groupby(["sasl_username", "period"], sort=True):
        span_h = max((grp["ts"].max() - grp["ts"].min()).total_seconds() / 3600, 1.0)
        n_domains = domains[domains["queue_id"].isin(grp["queue_id"])]["domain"].nunique()
        rows.append(
            {
                "sasl_username": user,
                "period": period,
                "first": grp["ts"].min(),
                "last": grp["ts"].max(),
                "messages": len(grp),
                "bytes": int(grp["size"].sum()),
                "recipients": int(grp["recipients"].sum()),
                "delivered": int(grp["delivered"].sum()),
                "deferred": int(grp["deferred"].sum()),
                "bounced": int(grp["bounced"].sum()),
                "recipient_domains": int(n_domains),
                "messages_per_hour": round(len(grp) / span_h, 2),
            }
        )
    order = {"before": 0, "after": 1, "all": 2}
    out = pd.DataFrame(rows, columns=ACCOUNT_COLUMNS)
    out = out.sort_values(
        ["sasl_username", "period"], key=lambda s: s.map(order) if s.name == "period" else s
    )
    return out.reset_index(drop=True)
