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

    def where(values: pd.Series) -> np.ndarray:
        """A boolean Series (with missing values: False) as a numpy mask."""
        return values.fillna(False).to_numpy(dtype=bool)

    # pflogsumm's command name, once per distinct tag
    codes, tags = pd.factorize(col("program"))
    names = np.array([pflogsumm_command(str(t)) or "" for t in tags] + [""], dtype=object)
    cmd = names[codes]
    read = cmd != ""
    message = col("message").fillna("")
    kind = col("kind")

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
    words = ("warning", "fatal", "panic", "reject", "reject_warning", "hold", "discard")
    head = np.full(n, "", dtype=object)
    maybe = where(message.str.startswith(words)) & read
    if maybe.any():
        head[maybe] = message[maybe].str.extract(r"^([^:\s]+)", expand=False).fillna("").to_numpy()
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
    assign(is_smtpd & where(kind == "client") & col("queue_id").notna().to_numpy(), "received")
    # by the text, not the kind: pflogsumm also counts a reject line too odd to parse
    acted = np.full(n, None, dtype=object)
    if is_smtpd.any():
        acted[is_smtpd] = message[is_smtpd].str.extract(_SMTPD_ACTION, expand=False).to_numpy()
    for word in ("reject", "reject_warning", "hold", "discard"):
        free = assign(acted == word, _ACTION_EVENT[word])
        text[free] = message[free].to_numpy()
    assign((cmd == "smtpd") & where(kind == "connect"), "connect")
    assign((cmd == "smtpd") & where(kind == "disconnect"), "disconnect")
    other = ~is_smtpd
    # 5. everything else: qmgr sizes, deliveries, pickup
    assign(other & where(kind == "queue_active"), "queued")
    delivery = other & where(kind == "delivery")
    status = col("status")
    reason = col("reason")
    sent = delivery & where(status == "sent")
    forwarded = np.zeros(n, dtype=bool)
    if sent.any():
        forwarded[sent] = where(reason[sent].fillna("").str.contains("forwarded as ", regex=False))
    assign(forwarded, "forwarded")
    for st, name in _STATUS_EVENT.items():
        free = assign(delivery & where(status == st), name)
        text[free] = reason[free].astype(object).to_numpy()
    pickup = other & (cmd == "pickup")
    if pickup.any():
        picked = np.zeros(n, dtype=bool)
        picked[pickup] = where(message[pickup].str.contains(r": (?:sender|uid)="))
        assign(picked, "received")

    keep = pd.notna(event)
    kept = ev[keep].reset_index(drop=True)

    def kept_col(name: str) -> pd.Series:
        if name in kept.columns:
            return kept[name]
        return pd.Series([None] * len(kept), dtype=object)

    out = pd.DataFrame(
        {
            "pos": np.flatnonzero(keep),
            "ts": kept_col("ts"),
            "command": cmd[keep],
            "event": event[keep],
            "weight": kept_col("repeat").fillna(1).astype("int64").to_numpy(),
            "queue_id": kept_col("queue_id").astype(object).to_numpy(),
            "pid": kept_col("pid").to_numpy(),
            "size": kept_col("size").to_numpy(),
            "delay": pd.to_numeric(kept_col("delay"), errors="coerce").to_numpy(),
            "relay": kept_col("relay").astype(object).to_numpy(),
            "stage": stage[keep],
            "text": text[keep],
            "source_file": kept_col("source_file").astype(object).to_numpy(),
            "line_no": kept_col("line_no").to_numpy(),
        }
    )
    is_received = (out["event"] == "received").to_numpy()
    hosts = kept_col("client_name").astype(object).fillna("").astype(str)
    addr = kept_col("client_ip").astype(object).fillna("").astype(str)
    client = (hosts + "[" + addr + "]").to_numpy(dtype=object, copy=True)
    client[(out["command"] == "pickup").to_numpy()] = "pickup"
    client[~(is_received | out["event"].isin(["connect", "disconnect"]).to_numpy())] = None
    out["client"] = client
    sasl = kept_col("sasl_username").astype(object).to_numpy()
    out["sasl_username"] = pd.Series(sasl).where(is_received, None).to_numpy()
    queued = (out["event"] == "queued").to_numpy()
    delivered = out["event"].isin(["delivered", "deferred", "bounced", "forwarded"]).to_numpy()
    raw = np.where(queued, kept_col("sender").astype(object), kept_col("recipient").astype(object))
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
