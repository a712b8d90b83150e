"""Plain-language explanation of a few pasted log lines (``maillog-forensics explain``).

For an admin who asks "what do these lines mean, did someone try to break in?": each
line gets a sentence; credentials in TLS-level-4 or debug dialogue are decoded (the
password redacted unless asked); what the lines reveal about the server's configuration
is said at the end.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
import polars as pl

from ..common.safe_text import terminal_safe
from ..events import catalog
from ..events.parse import TimeContext, parse_lines
from ..tables.auth import FAILED_OUTCOMES, auth_attempts_from_events
from ..tables.credentials import decode_response
from ..tables.login_counts import login_counts

__all__ = ["explain_lines"]

_DOC = {k.name: k.doc for k in catalog.KINDS}


def _who(r: dict[str, Any]) -> str:
    ip = r.get("client_ip")
    if ip == "":
        return "a client whose address is not in the line (unknown[])"
    if ip:
        return f"client {ip}" + (
            f" ({r['client_name']})" if r.get("client_name") not in (None, "unknown") else ""
        )
    return "the client"


def _sentence(r: dict[str, Any]) -> str:
    k = r["kind"]
    if k == "connect":
        return f"{_who(r)} connected to smtpd (pid {r['pid']})."
    if k == "disconnect":
        auth = ""
        if r.get("auth_total"):
            auth = f"; AUTH: {r['auth_ok']} of {r['auth_total']} succeeded"
        done = f"{r.get('commands_ok')} of {r.get('commands_total')} commands accepted"
        return f"{_who(r)} disconnected ({done}{auth})."
    if k == "sasl_failed":
        reason = r.get("reason") or ""
        extra = " The empty reason means Postfix < 3.9 with Dovecot SASL." if reason == "" else ""
        user = f" as {r['sasl_username']!r}" if r.get("sasl_username") not in (None, "(unavailable)") else ""
        why = reason or "no reason logged"
        return f"{_who(r)} tried to log in with SASL {r['sasl_method']}{user} and FAILED ({why}).{extra}"
    if k == "client" and r.get("sasl_username"):
        who, user = _who(r), r["sasl_username"]
        return f"{who} logged in successfully as {user!r} and queued a message ({r['queue_id']})."
    if k == "tls_established":
        return f"TLS started with {_who(r)}: {r['tls_protocol']}, {r['tls_cipher']}."
    if k == "tls_data":
        verb = "client sent" if r["direction"] == "Read" else "server replied"
        size = f"{r['io_length']} chars, only the first 40 logged"
        return f"Decrypted SMTP data ({verb}, {size}): {r['payload']!r}."
    if k == "smtp_dialogue":
        verb = "client sent" if r["direction"] == "<" else "server replied"
        return f"Verbose dialogue (debug_peer_list): {verb} {r['payload']!r}."
    if k == "dovecot_auth":
        exists = {
            "unknown user": " - that account does NOT exist",
            "Password mismatch": " - the account EXISTS",
        }
        return (
            f"Dovecot checked {r['username']!r} from {r['client_ip']}: {r['auth_result']}"
            f"{exists.get(str(r['auth_result']), '')}."
        )
    if k == "session_abort":
        return f"{_who(r)}: {r['reason']} after {r['stage']}."
    if k == "unparsed":
        return "Not a log line this tool knows (kept as it is)."
    return str(_DOC.get(k, k))


def explain_lines(lines: Sequence[str], *, reveal_passwords: bool = False, year: int | None = None) -> str:
    """Explain log lines in plain language.

    Parameters
    ----------
    lines
        The pasted lines.
    reveal_passwords
        Show decoded passwords in clear (default: length and visible-character count only).
    year
        Year for time stamps without one (default: this year).

    Examples
    --------
    >>> print(explain_lines(["postfix/smtpd[32451]: warning: unknown[]: "
    ...                      "SASL PLAIN authentication failed: "]).splitlines()[1])
    ... # doctest: +NORMALIZE_WHITESPACE
    1. a client whose address is not in the line (unknown[]) tried to log in with SASL PLAIN and FAILED
    (no reason logged). The empty reason means Postfix < 3.9 with Dovecot SASL. (pasted without
    its time stamp)
    """
    ctx = TimeContext("UTC", year or dt.date.today().year)
    rows, secrets, stampless = _parsed(list(lines), ctx)
    out: list[str] = [terminal_safe(_verdict(rows, secrets))]
    notes: list[str] = []
    challenge = ""
    for r in rows:
        text = _sentence(r)
        secret = secrets.get(r["line_no"])
        if r["kind"] in ("tls_data", "smtp_dialogue") and r["direction"] in ("Write", ">"):
            payload = str(r["payload"] or "")
            challenge = {"334 VXNlcm5hbWU6": "username", "334 UGFzc3dvcmQ6": "password"}.get(payload[:16], "")
            if payload.startswith("435 4.7.8"):
                notes.append("435 4.7.8 instead of 535 5.7.8: the server runs with soft_bounce = yes.")
        if secret is not None:
            text += " " + _credential_sentence(r, secret, challenge, reveal_passwords)
            if r["kind"] == "tls_data":
                notes.append(
                    "smtpd_tls_loglevel = 4 logs decrypted client data, credentials included: "
                    "set smtpd_tls_loglevel = 1, change the exposed passwords, purge old logs."
                )
            elif r["kind"] == "smtp_dialogue":
                notes.append(
                    "debug_peer_list / -v logs the full SMTP dialogue, credentials included: "
                    "remove it, change the exposed passwords, purge old logs."
                )
        if r["kind"] == "sasl_failed" and r["client_ip"] == "":
            notes.append(
                "unknown[]: the client address is missing from the line (redacted, or no address "
                "known); look for the 'connect from' line of the same pid."
            )
        if r["line_no"] in stampless:
            text += " (pasted without its time stamp)"
        out.append(f"{r['line_no']}. {terminal_safe(text)}")
    for note in dict.fromkeys(notes):
        out.append(f"note: {note}")
    return "\n".join(out)


#: put before a pasted line that has no time stamp (admins paste lines as ``postfix/smtpd[1]:
#: ...``): the envelope parser needs one, and no sentence shows it
_PLACEHOLDER_STAMP = "Jan  1 00:00:00 "


def _parsed(lines: list[str], ctx: TimeContext) -> tuple[list[dict[str, Any]], dict[int, str], set[int]]:
    """Parse pasted lines: rows, each line's first secret, the lines read without a stamp.

    A line no kind knows is tried once more behind a placeholder time stamp; it is read that
    way only if it then is a line the tool knows.
    """
    batch = parse_lines(pl.Series(lines, dtype=pl.String), source_file="pasted", first_line_no=1, ctx=ctx)
    rows = batch.table.to_pylist()
    found = list(batch.secrets)
    stampless: set[int] = set()
    for i, r in enumerate(rows):
        if r["kind"] != "unparsed":
            continue
        retry = parse_lines(
            pl.Series([_PLACEHOLDER_STAMP + lines[i]], dtype=pl.String),
            source_file="pasted",
            first_line_no=r["line_no"],
            ctx=ctx,
        )
        again = retry.table.to_pylist()[0]
        if again["kind"] != "unparsed":
            rows[i] = again
            stampless.add(r["line_no"])
            found = [s for s in found if s[0] != r["line_no"]] + list(retry.secrets)
    secrets: dict[int, str] = {}
    for ln, _, s in sorted(found, key=lambda s: s[0]):
        secrets.setdefault(ln, s)  # the line kind's own secret comes first
    return rows, secrets, stampless


def _verdict(rows: list[dict[str, Any]], secrets: dict[int, str]) -> str:
    """The one-line answer first, from the attempts table of these lines (as in the report)."""
    known = sum(r["kind"] != "unparsed" for r in rows)
    if not known:
        return (
            f"In short: cannot tell. None of these {len(rows):,} lines is a mail-log line this tool "
            "knows (Postfix, Dovecot, Cyrus)."
        )
    events = pd.DataFrame.from_records(rows)
    events["kind"] = events["kind"].astype("category")
    events["ts"] = pd.to_datetime(events["ts"], utc=True)
    side = pd.DataFrame({"source_file": "pasted", "line_no": list(secrets), "secret": list(secrets.values())})
    attempts = auth_attempts_from_events(events, secrets=side)
    counts = login_counts(attempts)
    said = []
    if counts.failed:
        tried = attempts.loc[attempts["outcome"].isin(FAILED_OUTCOMES), "username"].dropna().unique()
        names = ", ".join(repr(str(u)) for u in tried[:5]) + (", ..." if len(tried) > 5 else "")
        said.append(counts.failed_sentence() + (f" (as {names})" if names else ""))
    if counts.succeeded:
        said.append(f"{counts.succeeded:,} successful login{'' if counts.succeeded == 1 else 's'}")
    errors = counts.server_error_sentence()
    if errors:
        said.append(errors[0].lower() + errors[1:].rstrip("."))
    if not said:
        said.append("no login attempt in these lines")
    elif counts.failed and not counts.succeeded:
        said.append("no successful login in these lines (other lines of the log may show one)")
    exposed = len(secrets)
    if exposed:
        said.append(
            f"{exposed:,} line{' holds' if exposed == 1 else 's hold'} a credential in the log: change "
            f"{'that password' if exposed == 1 else 'those passwords'}"
        )
    unknown = len(rows) - known
    tail = f" ({unknown:,} of {len(rows):,} lines not understood.)" if unknown else ""
    return "In short: " + "; ".join(said) + "." + tail


_DECODED_KINDS = frozenset({"tls_data", "smtp_dialogue", "sasl_debug", "dovecot_auth_debug"})


def _auth_mechanism(r: dict[str, Any]) -> str | None:
    """The mechanism of an AUTH line (SMTP ``AUTH PLAIN ...`` or Dovecot ``AUTH<tab>1<tab>PLAIN``)."""
    payload = str(r["payload"] or "")
    if r["kind"] == "dovecot_auth_debug":
        fields = re.split(r"\t|#011", payload)
        return fields[2] if len(fields) > 2 and fields[0] == "AUTH" else None
    if r["kind"] == "sasl_debug":
        return str(r["sasl_method"]) if r.get("sasl_method") else None
    words = payload.split("?", 1)[0].split()
    return words[1] if len(words) >= 2 and words[0].upper() == "AUTH" else None


def _credential_sentence(r: dict[str, Any], secret: str, challenge: str, reveal: bool) -> str:
    if r["kind"] not in _DECODED_KINDS:
        shown = f": {secret!r}" if reveal else " (redacted; --reveal-passwords shows it)"
        return f"Holds a credential of {len(secret)} characters{shown}."
    cut = r["kind"] == "tls_data" and (r["io_length"] or 0) > 40
    mech = _auth_mechanism(r)
    if not reveal and (mech is None or mech.upper() == "LOGIN"):
        # LOGIN sends user name and password alike, one base64 line each: nothing tells them
        # apart for sure (a client may send either, or pipeline both), so decode neither
        return (
            f"Holds a base64 SASL LOGIN response of {len(secret)} characters, user name or password "
            "(redacted; --reveal-passwords decodes it)."
        )
    if mech is not None:
        full = (r["io_length"] - 2 - len(mech) - 6) if r["kind"] == "tls_data" and r["io_length"] else None
        creds = decode_response(mech, secret, logged_length=full, cut=cut)
    else:
        full = (r["io_length"] - 2) if r["kind"] == "tls_data" and r["io_length"] else None
        creds = decode_response("LOGIN", secret, step=challenge or "username", logged_length=full, cut=cut)
    parts = []
    if creds.username is not None:
        parts.append(f"username {creds.username!r} ({'complete' if creds.username_complete else 'cut'})")
    if creds.password is not None:
        n = creds.password_length
        size = f"{n[0]}" if n and n[0] == n[1] else (f"{n[0]}-{n[1]}" if n else "unknown")
        if reveal:
            shown = repr(creds.password) + ("..." if not creds.password_complete else "")
            parts.append(f"password {shown} ({size} characters)")
        else:
            seen = "" if creds.password_complete else f", {len(creds.password)} of them visible in the log"
            parts.append(f"a password of {size} characters{seen} (redacted; --reveal-passwords shows it)")
        if creds.next_char and reveal:
            lo, hi = creds.next_char
            parts.append(f"next character between {chr(lo)!r} and {chr(hi)!r}")
    return "Decoded credentials: " + ", ".join(parts) + "." if parts else "Holds a base64 credential."
