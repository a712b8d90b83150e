"""The lines pflogsumm counts, one row each, with what each counts as (``event``).

pflogsumm 1.1.5 reads only lines of the ``postfix`` syslog name (``postfix/...`` tags,
``postfix`` and ``postfix-script``). Its name for the writing program (here ``command``) is
the tag after ``postfix/`` with a leading ``smtps/`` or ``submission/`` service removed:
``postfix/submission/smtpd`` is ``smtpd``, but a content filter's re-injection service
``postfix/10025/smtpd`` stays ``10025/smtpd``, so what it re-injects is not received twice.
A line counts as:

``received``
    an smtpd (or postscreen) ``QUEUEID: client=`` line, or a pickup ``uid=``/``sender=``
    line;
``queued``
    the first ``from=<...>, size=N`` line (qmgr) of a queue id: the sender and size of a
    message, counted as received bytes when the message was received earlier in the log;
``delivered``, ``forwarded``, ``deferred``, ``bounced``
    a delivery line (``to=<...>, relay=..., delay=..., status=...``) with ``status=sent``
    (``forwarded`` when the reply says ``forwarded as``), ``deferred`` or ``bounced``;
``rejected``, ``reject_warning``, ``held``, ``discarded``
    an smtpd/postscreen ``reject``/``reject_warning``/``hold``/``discard``, or a cleanup
    header/body/END-OF-MESSAGE ``reject`` (or ``milter-reject``)/``warning``/``hold``/``discard``;
``warning``, ``fatal``, ``panic``
    a line whose text starts ``warning:``/``fatal:``/``panic:``;
``master``
    a master daemon message;
``connect``, ``disconnect``
    smtpd's ``connect from``/``disconnect from`` (connection statistics).

Rows of a ``message repeated N times`` line weigh ``N`` (``weight``); pflogsumm skips
those lines (see :func:`maillog_forensics.tables.mail_flow.totals.grand_totals`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...events.schema import EventRows
from .addresses import map_unique, normal_address, recipient_domain

__all__ = ["EVENT_COLUMNS", "EVENT_ROWS", "FLOW_COLUMNS", "flow_lines", "pflogsumm_command"]

#: event columns :func:`flow_lines` reads
EVENT_COLUMNS = [
    "ts",
    "program",
    "pid",
    "kind",
    "queue_id",
    "message",
    "repeat",
    "client_name",
    "client_ip",
    "sasl_username",
    "sender",
    "size",
    "nrcpt",
    "recipient",
    "relay",
    "delay",
    "status",
    "reason",
    "stage",
    "source_file",
    "line_no",
]

_POSTFIX_DAEMONS = (
    "smtpd",
    "postscreen",
    "cleanup",
    "qmgr",
    "pickup",
    "smtp",
    "lmtp",
    "local",
    "virtual",
    "pipe",
    "error",
    "retry",
    "discard",
    "relay",
    "bounce",
    "master",
    "postfix-script",
    "postsuper",
    "postdrop",
    "sendmail",
    "trivial-rewrite",
    "tlsmgr",
    "tlsproxy",
    "verify",
    "scache",
    "anvil",
    "proxymap",
    "postmap",
    "postlog",
    "spawn",
    "dnsblog",
)
#: rows it reads: the lines of Postfix's daemons, and every warning (``load_events(..., rows=)``)
EVENT_ROWS = EventRows(daemons=_POSTFIX_DAEMONS, kinds=("warning",))

#: columns of the :func:`flow_lines` table
FLOW_COLUMNS = [
    "pos",
    "ts",
    "command",
    "event",
    "weight",
    "queue_id",
    "pid",
    "address",
    "domain",
    "size",
    "delay",
    "relay",
    "client",
    "sasl_username",
    "stage",
    "text",
    "source_file",
    "line_no",
]

_TAG = re.compile(r"^postfix(?:/(?:smtps|submission))?/([^\[:]*)$|^(postfix(?:-script)?)$")
_CLEANUP_ACTION = re.compile(
    r"\b((?:milter-)?reject|warning|hold|discard): (header|body|END-OF-MESSAGE) (.*)$"
)
_SMTPD_ACTION = r"^[0-9A-Za-z_]+: (reject|reject_warning|hold|discard): "
_ACTION_EVENT = {
    "reject": "rejected",
    "milter-reject": "rejected",
    "reject_warning": "reject_warning",
    "warning": "reject_warning",
    "hold": "held",
    "discard": "discarded",
}
_STATUS_EVENT = {"sent": "delivered", "deferred": "deferred", "bounced": "bounced"}


def pflogsumm_command(program: str) -> str | None:
    """pflogsumm's name for the program of a syslog tag (``None``: a line it does not read).

    Examples
    --------
    >>> pflogsumm_command("postfix/submission/smtpd")
    'smtpd'
    >>> pflogsumm_command("postfix/10025/smtpd")
    '10025/smtpd'
    >>> pflogsumm_command("postfix-in/smtpd") is None
    True
    """
    m = _TAG.match(program)
    if m is None:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


def flow_lines(events: pd.DataFrame) -> pd.DataFrame:
    """One row per line pflogsumm counts (:data:`FLOW_COLUMNS`), in input order.

    ``address`` is the sender (``queued``) or recipient (deliveries) as pflogsumm lists it,
    ``domain`` the recipient's domain; ``client`` is ``name[addr]`` of a received message
    (``pickup`` for a local one) and of a connection;
    ``text`` the line's text after its queue id (rejects, deferrals, bounces, warnings).

    Examples
    --------
    >>> ev = pd.DataFrame({"ts": pd.to_datetime(["2026-03-14 10:00:00"], utc=True),
    ...     "program": ["postfix/smtpd"], "pid": [7], "kind": ["client"], "queue_id": ["4F2A1B"],
    ...     "message": ["4F2A1B: client=mx.example.net[192.0.2.1]"], "repeat": [1],
    ...     "client_name": ["mx.example.net"], "client_ip": ["192.0.2.1"]})
    >>> flow_lines(ev)[["command", "event", "client"]].to_dict("records")
    [{'command': 'smtpd', 'event': 'received', 'client': 'mx.example.net[192.0.2.1]'}]
    """
    ev = events.reset_index(drop=True)
    n = len(ev)

    def col(name: str) -> pd.Series:
        if name in ev.columns:
            return ev[name]
        return pd.Series([None] * n, dtype=object)

    program = col("program").astype(object)
    command = map_unique(program.fillna(""), lambda p: pflogsumm_command(p) or "")
    command = command.where(command != "", None)
    message = col("message").astype(object).fillna("").astype(str)
    kind = col("kind").astype(object).fillna("").astype(str)
    first = message.str.extract(r"^([^:\s]+)", expand=False).fillna("")
    read = command.notna().to_numpy()
    cmd = command.fillna("").to_numpy(dtype=object)

    event = np.full(n, None, dtype=object)
    text = np.full(n, None, dtype=object)
    stage = col("stage").astype(object).to_numpy(copy=True)

    def assign(mask: np.ndarray, name: object) -> np.ndarray:
        free: np.ndarray = mask & read & pd.isna(event)
        event[free] = name
        return free

    # 1. cleanup header/body/END-OF-MESSAGE actions (checked before anything else)
    is_cleanup = cmd == "cleanup"
    if is_cleanup.any():
        found = message[is_cleanup].str.extract(_CLEANUP_ACTION)
        found = found[found[0].notna()]
        idx = found.index.to_numpy()
        event[idx] = found[0].map(_ACTION_EVENT).to_numpy()
        stage[idx] = found[1].to_numpy()
        # the detail without the client and the envelope tail
        text[idx] = found[2].str.replace(r"( from \S+?)?; from=<.*$", "", regex=True).to_numpy()
    # 2. the first word says it: warning/fatal/panic, or an old-style (queue id-less) action
    head = first.to_numpy(dtype=object)
    for word in ("warning", "fatal", "panic"):
        free = assign(head == word, word)
        text[free] = message[free].str.replace(rf"^.*{word}: ", "", regex=True).to_numpy()
    for word in ("reject", "reject_warning", "hold", "discard"):
        free = assign(head == word, _ACTION_EVENT[word])
        text[free] = message[free].to_numpy()
    # 3. master
    free = assign(cmd == "master", "master")
    text[free] = message[free].str.replace(r"^.*: ", "", regex=True).to_numpy()
    # 4. smtpd / postscreen: client= (received) and NOQUEUE/queue id actions; connections
    is_smtpd = (cmd == "smtpd") | (cmd == "postscreen")
    assign(is_smtpd & (kind == "client").to_numpy() & col("queue_id").notna().to_numpy(), "received")
    acted = message.str.extract(_SMTPD_ACTION, expand=False)
    for word in ("reject", "reject_warning", "hold", "discard"):
        free = assign(is_smtpd & (acted == word).to_numpy(), _ACTION_EVENT[word])
        text[free] = message[free].to_numpy()
    assign((cmd == "smtpd") & (kind == "connect").to_numpy(), "connect")
    assign((cmd == "smtpd") & (kind == "disconnect").to_numpy(), "disconnect")
    other = ~is_smtpd
    # 5. everything else: qmgr sizes, deliveries, pickup
    assign(other & (kind == "queue_active").to_numpy(), "queued")
    status = col("status").astype(object)
    delivery = other & (kind == "delivery").to_numpy()
    reason = col("reason").astype(object)
    forwarded = status.eq("sent").to_numpy() & reason.fillna("").str.contains("forwarded as ").to_numpy()
    free = assign(delivery & forwarded, "forwarded")
    for st, name in _STATUS_EVENT.items():
        free = assign(delivery & status.eq(st).to_numpy(), name)
        text[free] = reason[free].to_numpy()
    assign(other & (cmd == "pickup") & message.str.contains(r": (?:sender|uid)=").to_numpy(), "received")

    keep = pd.notna(event)
    out = pd.DataFrame(
        {
            "pos": np.flatnonzero(keep),
            "ts": col("ts")[keep].to_numpy(),
            "command": cmd[keep],
            "event": event[keep],
            "weight": col("repeat").fillna(1).astype("int64")[keep].to_numpy(),
            "queue_id": col("queue_id").astype(object)[keep].to_numpy(),
            "pid": col("pid")[keep].to_numpy(),
            "size": col("size")[keep].to_numpy(),
            "delay": pd.to_numeric(col("delay")[keep], errors="coerce").to_numpy(),
            "relay": col("relay").astype(object)[keep].to_numpy(),
            "stage": stage[keep],
            "text": text[keep],
            "source_file": col("source_file").astype(object)[keep].to_numpy(),
            "line_no": col("line_no")[keep].to_numpy(),
        }
    )
    is_received = (out["event"] == "received").to_numpy()
    names = col("client_name").astype(object).fillna("").astype(str)[keep]
    addr = col("client_ip").astype(object).fillna("").astype(str)[keep]
    client = (names + "[" + addr + "]").to_numpy(dtype=object, copy=True)
    client[(out["command"] == "pickup").to_numpy()] = "pickup"
    client[~(is_received | out["event"].isin(["connect", "disconnect"]).to_numpy())] = None
    out["client"] = client
    sasl = col("sasl_username").astype(object)[keep].to_numpy()
    out["sasl_username"] = pd.Series(sasl).where(is_received, None).to_numpy()
    queued = (out["event"] == "queued").to_numpy()
    delivered = out["event"].isin(["delivered", "deferred", "bounced", "forwarded"]).to_numpy()
    raw = np.where(queued, col("sender").astype(object)[keep], col("recipient").astype(object)[keep])
    address = np.full(len(out), None, dtype=object)
    wanted = queued | delivered
    address[wanted] = map_unique(pd.Series(raw[wanted]).fillna(""), normal_address).to_numpy()
    # a recipient "<>" is not the null sender
    address[delivered & (pd.Series(raw).fillna("") == "").to_numpy()] = ""
    out["address"] = address
    domain = np.full(len(out), None, dtype=object)
    domain[delivered] = map_unique(pd.Series(address[delivered]).fillna(""), recipient_domain).to_numpy()
    out["domain"] = domain
    out = out[FLOW_COLUMNS]
    for name in ("size", "pid", "line_no"):
        out[name] = pd.to_numeric(out[name], errors="coerce").astype("Int64")
    out["delay"] = out["delay"].astype("float64")
    return out
