"""A stored event shown as the log line it came from: ``stamp host program[pid]: message``."""

from __future__ import annotations

import pandas as pd

__all__ = ["LINE_COLUMNS", "line_text", "syslog_text"]

#: the event columns a line's text is made of
LINE_COLUMNS = ["ts_raw", "host", "program", "pid", "message"]


def syslog_text(events: pd.DataFrame) -> pd.Series:
    """``host program[pid]: message``, leaving out the parts a line does not have.

    Examples
    --------
    >>> ev = pd.DataFrame({"host": ["mx", None], "program": ["postfix/smtpd", None],
    ...     "pid": [42, None], "message": ["connect from x", "a line of no program"]})
    >>> syslog_text(ev).tolist()
    ['mx postfix/smtpd[42]: connect from x', 'a line of no program']
    """

    def part(name: str) -> pd.Series:
        if name not in events:
            return pd.Series(pd.NA, index=events.index, dtype="string")
        col = events[name]
        return (col.astype("Int64") if name == "pid" else col).astype("string")

    msg, host, prog, pid = part("message").fillna(""), part("host"), part("program"), part("pid")
    tag = (prog + "[" + pid + "]").fillna(prog)
    head = (host + " " + tag).fillna(tag).fillna(host)
    return (head + ": " + msg).fillna(msg)


def line_text(events: pd.DataFrame) -> pd.Series:
    """The whole line as stored: the time stamp as written, then :func:`syslog_text`.

    The message is the stored one, so credentials the ingest took out stay out.

    Examples
    --------
    >>> ev = pd.DataFrame({"ts_raw": ["Feb  3 11:57:42", None], "host": ["mx", "mx"],
    ...     "program": ["dovecot", "dovecot"], "pid": [None, None], "message": ["a", "b"]})
    >>> line_text(ev).tolist()
    ['Feb  3 11:57:42 mx dovecot: a', 'mx dovecot: b']
    """
    text = syslog_text(events)
    if "ts_raw" not in events:
        return text
    stamp = events["ts_raw"].astype("string")
    return (stamp + " " + text).fillna(text)
