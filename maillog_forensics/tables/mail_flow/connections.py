"""SMTP connection statistics (pflogsumm ``--smtpd-stats``): connections, hosts, connect time.

A ``disconnect from`` is paired with the ``connect from`` of the same smtpd process just
before it; the time between them is counted in whole seconds of the clock, as pflogsumm
counts it. Re-injection and other named services (``postfix/10025/smtpd``) are left out,
as pflogsumm leaves them out; ``submission`` and ``smtps`` count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .addresses import client_domain, map_unique

__all__ = ["connection_summary", "connections"]


def connections(flow: pd.DataFrame) -> pd.DataFrame:
    """One row per paired smtpd connection: ``ts`` (of the disconnect), ``seconds``, ``domain``
    (the client's, as :func:`~.addresses.client_domain` names it)."""
    rows = flow[flow["event"].isin(["connect", "disconnect"])].sort_values("pos")
    if rows.empty:
        return pd.DataFrame({"ts": [], "seconds": [], "domain": []})
    prev_event = rows.groupby("pid")["event"].shift(1)
    prev_ts = rows.groupby("pid")["ts"].shift(1)
    paired = (rows["event"] == "disconnect") & (prev_event == "connect")
    done = rows[paired]
    end = pd.to_datetime(done["ts"], utc=True).dt.floor("s")
    start = pd.to_datetime(prev_ts[paired], utc=True).dt.floor("s")
    seconds = (end - start).dt.total_seconds().astype("int64")
    domain = map_unique(done["client"].fillna(""), client_domain)
    return pd.DataFrame(
        {"ts": done["ts"].to_numpy(), "seconds": seconds.to_numpy(), "domain": domain.to_numpy()}
    )


def connection_summary(table: pd.DataFrame) -> dict[str, int]:
    """``connections``, ``hosts`` (distinct domains), ``avg_connect_seconds`` (rounded) and
    ``total_connect_seconds`` of :func:`connections`.

    Examples
    --------
    >>> connection_summary(pd.DataFrame({"seconds": [1, 2], "domain": ["a", "a"]}))
    {'connections': 2, 'hosts': 1, 'avg_connect_seconds': 2, 'total_connect_seconds': 3}
    """
    n = len(table)
    total = int(np.sum(table["seconds"])) if n else 0
    return {
        "connections": n,
        "hosts": int(table["domain"].nunique()) if n else 0,
        "avg_connect_seconds": int(total / n + 0.5) if n else 0,
        "total_connect_seconds": total,
    }
