"""Find and redact credentials in logged text, before anything is stored.

Lines written with ``smtpd_tls_loglevel = 4`` (``Read N chars: AUTH PLAIN <base64>``),
``debug_peer_list`` (``< host: <base64>``), ``smtpd -v`` (``init_response <base64>``) and
Dovecot ``auth_verbose_passwords`` / ``auth_debug`` carry passwords. The event table keeps
the line with the secret replaced by ``<redacted:N>`` (N = its length) and the secret goes to
a separate, owner-only side table that only :mod:`maillog_forensics.tables.credentials` reads.
"""

from __future__ import annotations

import re

__all__ = ["DIALOGUE_KINDS", "REDACTION_RE", "SECRET_KINDS", "marker", "secret_in_payload"]

SMTP_VERBS = frozenset(
    [
        "HELO",
        "EHLO",
        "LHLO",
        "MAIL",
        "RCPT",
        "DATA",
        "BDAT",
        "RSET",
        "NOOP",
        "QUIT",
        "VRFY",
        "EXPN",
        "HELP",
        "STARTTLS",
        "AUTH",
        "ETRN",
        "XCLIENT",
        "XFORWARD",
        "TURN",
        "ATRN",
    ]
)
_B64_LINE = re.compile(r"[A-Za-z0-9+/]+=*")
_AUTH_INITIAL = re.compile(r"(?i:auth) +[^ ?]+ +(?P<secret>[^ ?]+)")
_DOVECOT_RESP = re.compile(r"resp=(?P<secret>[^ \t#?]+)")
# saslauthd -V: auth_shadow "pw mismatch: '%s' != '%s'" (crypt of the given password and the
# stored hash), auth_rimap "sending LOGIN %s %s" (quoted user and password), auth_httpform
# "sending %s %s %s" (the POST data with the password): everything after the marker
_SASLAUTHD_SECRET = re.compile(
    r"pw mismatch: (?P<secret>.+)"
    r'|sending saslauthd LOGIN (?:"(?:[^"\\]|\\.)*"|[^ ]+) (?P<secret2>.+)'
    r"|sending [^ ]+ [^ ]+ (?P<secret3>.+)"
)
#: kinds whose payload is one line of the SMTP dialogue (client's or server's)
DIALOGUE_KINDS = frozenset({"tls_data", "smtp_dialogue", "smtp_client_dialogue"})
#: what a redaction looks like in stored text
REDACTION_RE = re.compile(r"<redacted:[0-9]+>")


def marker(secret: str) -> str:
    """The text that stands in for a secret."""
    return f"<redacted:{len(secret)}>"


def secret_in_payload(kind: str, direction: str | None, payload: str | None) -> str | None:
    """Return the secret substring of a logged payload, or ``None`` if it holds none.

    Parameters
    ----------
    kind
        The line kind (``tls_data``, ``smtp_dialogue``, ``sasl_debug``, ``dovecot_auth``,
        ``dovecot_auth_debug``).
    direction
        ``Read``/``<`` for client data; server replies (``Write``/``>``) are never secret.
    payload
        The logged data.

    Examples
    --------
    >>> secret_in_payload("tls_data", "Read", "AUTH PLAIN AGFkbWluQGZpcGljay5jb20Ad2lsb")
    'AGFkbWluQGZpcGljay5jb20Ad2lsb'
    >>> secret_in_payload("tls_data", "Read", "EHLO localhost??") is None
    True
    """
    if not payload:
        return None
    if kind in DIALOGUE_KINDS:
        # what the client sent: smtpd reads it ("Read", "<"), our smtp client writes it (">")
        if direction not in (("Read", "<") if kind != "smtp_client_dialogue" else (">",)):
            return None
        text = payload[:-2] if payload.endswith("??") else payload
        m = _AUTH_INITIAL.match(text)
        if m:
            return m["secret"]
        if text.upper() in SMTP_VERBS or not _B64_LINE.fullmatch(text):
            return None
        return text
    if kind in ("sasl_debug", "sasl_decoded", "sasl_library", "smtp_sasl_debug"):
        return payload  # the pattern captures only the secret part as payload
    if kind == "saslauthd_mech":
        m = _SASLAUTHD_SECRET.match(payload)
        return (m["secret"] or m["secret2"] or m["secret3"]) if m else None
    if kind == "dovecot_auth":
        return payload  # only set for "(given password: ...)" / SHA1; see parse
    if kind == "dovecot_auth_debug":
        m = _DOVECOT_RESP.search(payload)
        return m["secret"] if m else None
    return None


#: kinds whose payload may hold a secret
SECRET_KINDS = frozenset(
    {
        "tls_data",
        "smtp_dialogue",
        "smtp_client_dialogue",
        "sasl_debug",
        "sasl_decoded",
        "sasl_library",
        "smtp_sasl_debug",
        "saslauthd_mech",
        "dovecot_auth",
        "dovecot_auth_debug",
    }
)
