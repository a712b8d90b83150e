"""What is a secret in a logged line: the one place every writer asks.

Two layers, both applied to every line whatever its kind (unparsed lines included):

- **known formats**, read from the sources of the programs that write them (format strings
  quoted beside each rule, with repository, tag and file);
- a **credential-shape detector**: ``pass=`` / ``password=`` / ``passwd=`` / ``resp=`` /
  ``auth_token=`` fields, ``AUTH <mech> <base64>`` (also pipelined with ``??``), a bare
  base64 client line of an SMTP dialogue or TLS trace, stored hashes
  (``{SCHEME}...``, ``$6$...``, ``$2y$...``).

Both only run on a line that contains :data:`TRIGGER` (one Rust/Python regular
expression, case-insensitive literals), so ingest tests every line once in polars and
runs Python only on the few that can hold a secret. :func:`find_secrets` returns the
secret substrings; :func:`redact_row` cuts them out of the message and every column
derived from it (reason, payload, sasl_method, ...), leaving ``<redacted:N>``.

Sources (``git show TAG:path``):

- Postfix (github:vdukhovni/postfix v2.5.0, v3.0.0, v3.9.0, 3.12): ``src/xsasl/xsasl_cyrus_server.c``
  ``"%s: decoded initial response %s"``, ``"%s: decoded response: %.*s"``;
  ``src/xsasl/xsasl_cyrus_client.c`` ``"%s: %s"`` (xsasl_cyrus_client_get_passwd),
  ``"%s: uncoded initial reply: %s"``, ``"%s: uncoded client response %.*s"``;
  ``src/smtp/smtp_sasl_glue.c`` ``"%s: host `%s' user `%s' pass `%s'"``;
  ``src/global/maps.c`` ``"%s: %s: %s: %s = %.100s%s"`` (maps_find, title
  smtp_sasl_password_maps: value ``user:pass``); ``src/smtpd/smtpd_chat.c`` ``"< %s: %s"``,
  ``src/smtp/smtp_chat.c`` ``"> %s: %s"``; ``src/tls/tls_stream.c`` ``"Read %ld chars: %.*s"``,
  ``"Write %ld chars: %.*s"``; ``src/xsasl/xsasl_dovecot_server.c``
  ``"%s: sasl_method %s%s%s"``.
- Dovecot (github:dovecot/core 2.2.0, 2.3.0, 2.4): ``src/auth/auth-client-connection.c``
  ``"client in: %s"`` (``AUTH ... resp=``, ``CONT<tab>id<tab>base64``);
  ``src/auth/auth-request.c`` ``"%s(%s) != '%s'"``, ``"(given password: %s)"``,
  ``"(SHA1 of given password: %s)"``, ``"Invalid password%s in passdb: %s"`` (``" '%s'"``),
  ``"Credentials: %s"``; ``src/auth/passdb.c`` ``"Generating %s from user '%s', password '%s'"``;
  ``src/auth/passdb-cache.c`` ``"cache hit: %s"``; ``src/auth/auth-master-connection.c``
  ``"passdb out: %s"`` (``pass=``/``password=`` fields), ``auth_token``.
- Cyrus SASL saslauthd -V (github:cyrusimap/cyrus-sasl 2.1.23, 2.1.28, master):
  ``saslauthd/auth_rimap.c`` ``"auth_rimap: sending %s%s %s"`` (``saslauthd LOGIN "u" "p"``);
  ``saslauthd/auth_shadow.c`` ``"DEBUG: auth_shadow: pw mismatch: '%s' != '%s'"`` and
  ``"auth_shadow: pw mismatch: %s != %s"``; ``saslauthd/auth_httpform.c``
  ``"auth_httpform: sending %s %s %s"`` (the form data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from typing import Any

from . import redact

__all__ = [
    "REDACTED_COLUMNS",
    "TRIGGER",
    "find_secrets",
    "marker",
    "redact_row",
    "redact_text",
]

#: a line can only hold a secret when it contains one of these (checked first, in polars)
TRIGGER = (
    # a password field as _FIELD takes it: its key after a non-word character (not SPF_PASS=)
    r"(?i:(?:^|[^a-z0-9_]|#011)(?:pass(?:word|wd)?|user_?password)=|"
    # a quoted password (_QUOTED_PASSWORD), Dovecot's "given password: ", maps_find's title
    r"(?:^|[^a-z])pass(?:word|wd)?(?:: | ?[:=]? ?['`\"])|pass(?:word|wd)?_maps: |"
    r"pwd=|resp=|token=|secret=|api_?key=|"
    r"credentials: |decoded (?:initial )?response|uncoded (?:initial reply|client response)|"
    r"get_passwd: |pw mismatch: |\) != '|cache hit: |cont(?:\t|#011)[0-9]|auth_rimap: sending |"
    r"auth_httpform: sending |init_response |chars: [a-z0-9+/]+=*[?]*$)"
    # AUTH <mech> <response>: a known mechanism (any case) or an upper-case name, as _AUTH takes
    r"|(?i:auth)[ ]+(?:(?i:plain|login|cram-md5|digest-md5|ntlm|gssapi|gs2-krb5|xoauth2?|oauthbearer|"
    r"external|anonymous|otp|skey|srp|scram-sha-[0-9a-z-]+|apop|kerberos_v4|msn)|[A-Z0-9_-]*[A-Z][A-Z0-9_-]*)"
    r"(?:[ ]+|[?]+)[A-Za-z0-9+/]"
    r"|\$(?:1|2[abxy]?|5|6|7|y|gy|argon2(?:i|d|id)|sha1|md5|pbkdf2[a-z0-9-]*)\$"
    # a password scheme prefix as _HASH takes it ({SHA512-CRYPT}, {PLAIN}; not amavis' {RelayedInbound})
    r"|\{[A-Z0-9-]*(?:CRYPT|SHA|MD4|MD5|PLAIN|CLEAR|ARGON2I|ARGON2ID|PBKDF2|NTLM|LANMAN|RPA|OTP|SKEY|SCRAM)"
    r"|^[<>] [^ ]+: [A-Za-z0-9+/]+=*$"
)
TRIGGER_RE = re.compile(TRIGGER)
#: event columns a secret is cut out of: the message and every column derived from it
REDACTED_COLUMNS: tuple[str, ...] = (
    "message",
    "payload",
    "reason",
    "sasl_method",
    "sasl_username",
    "sasl_sender",
    "username",
    "auth_result",
    "client_name",
    "helo",
    "stage",
    "sender",
    "recipient",
    "orig_to",
    "relay",
    "mailbox",
    "message_id",
    "login_event",
    "auth_driver",
    "status",
    "version",
)

_HIDDEN = frozenset({"", "<hidden>", "<redacted>", "=", "*"})
_SMTP_VERBS = frozenset(
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
# a field ends at a tab, rsyslog's escaped tab (#011), or the end of the line
_END = r"(?=\t|#011|$)"
_B64 = r"[A-Za-z0-9+/]+=*"
_SEP = r"(?:\t|#011)"

# --- known formats: each is (regex, groups holding a secret) ------------------------------
_KNOWN: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(p), g)
    for p, g in (
        # Postfix xsasl_cyrus_server.c: decoded (initial) response (LOGIN user/password in clear)
        (r"xsasl_cyrus_server_[a-z_]+: decoded (?:initial )?response:? (?P<s>.+)$", ("s",)),
        # Postfix xsasl_cyrus_client.c
        (r"xsasl_cyrus_client_get_passwd: (?P<s>.+)$", ("s",)),
        (r"xsasl_cyrus_client_[a-z_]+: uncoded (?:initial reply:|client response) (?P<s>.+)$", ("s",)),
        # Postfix xsasl_dovecot_server.c / xsasl_cyrus_server.c: the AUTH initial response
        (r"xsasl_[a-z_]+: sasl_method [^ ,]+, init_response (?P<s>.+)$", ("s",)),
        # Postfix smtp_sasl_glue.c: host `%s' user `%s' pass `%s'
        (r"smtp_sasl_passwd_lookup: host `.*' user `.*' pass `(?P<s>.*)'$", ("s",)),
        # Postfix maps.c: maps_find: smtp_sasl_password_maps: hash:/etc/..: [relay]:587 = user:pass
        (r"maps_find: [a-z]*_sasl_passw(?:or)?d_maps: [^ ]+: [^ ]+ = [^:]*:(?P<s>.+?)(?:\.\.\.)?$", ("s",)),
        # Dovecot auth-request.c: SCHEME(pass) != 'stored'[, try X scheme instead]
        (
            r"(?:^|: )(?P<scheme>[A-Z][A-Z0-9._-]*)\((?P<p>.*)\) != '(?P<h>.*)'"
            r"(?:, try [^ ]+ scheme instead)?$",
            ("p", "h"),
        ),
        # Dovecot auth-request.c (auth_verbose_passwords): (given password: %s) / (SHA1 of ...)
        (r"\((?:SHA1 of )?given password: (?P<s>.*)\)", ("s",)),
        # Dovecot auth-request.c (auth_debug_passwords): Invalid password '%s' in passdb: %s
        (r"Invalid password '(?P<s>.*)' in passdb: ", ("s",)),
        # Dovecot passdb.c: Generating %s from user '%s', password '%s'
        (r"Generating [^ ]+ from user '.*', password '(?P<s>.*)'$", ("s",)),
        # Dovecot auth-request.c: Credentials: <hex>
        (r"Credentials: (?P<s>[0-9A-Fa-f]+)$", ("s",)),
        # Dovecot passdb-cache.c: cache hit: <password>[\t<extra fields>]
        (r"(?<!userdb )cache hit: (?P<s>[^\t#][^\t]*?)" + _END, ("s",)),
        # Dovecot auth-client-connection.c: client in: CONT<tab>id<tab>base64
        (r"CONT" + _SEP + r"[0-9]+" + _SEP + r"(?P<s>[^\t# ]+)", ("s",)),
        # saslauthd auth_rimap.c: sending saslauthd LOGIN "user" "pass" (qstring: quoted)
        (r"auth_rimap: sending [^ ]* ?LOGIN (?:\"(?:[^\"\\]|\\.)*\"|[^ ]+) (?P<s>.+)$", ("s",)),
        # saslauthd auth_shadow.c: pw mismatch: '%s' != '%s' (stored hash, crypt of the given one)
        (r"auth_shadow: pw mismatch: '(?P<h>.*)' != '(?P<c>.*)'$", ("h", "c")),
        # saslauthd auth_shadow.c (sasldb-style): pw mismatch: <given> != <stored>
        (r"auth_shadow: pw mismatch: (?P<p>[^'].*) != (?P<h>[^ ]*)$", ("p", "h")),
        # saslauthd auth_httpform.c: sending HOST URI FORMDATA
        (r"auth_httpform: sending [^ ]+ [^ ]+ (?P<s>.+)$", ("s",)),
    )
)

#: a literal each rule of :data:`_KNOWN` needs (same order): the regex runs only when present
_KNOWN_LITERALS: tuple[str, ...] = (
    "decoded ",
    "get_passwd: ",
    "uncoded ",
    "init_response ",
    "smtp_sasl_passwd_lookup: ",
    "maps_find: ",
    ") != '",
    "given password: ",
    "Invalid password '",
    "Generating ",
    "Credentials: ",
    "cache hit: ",
    "CONT",
    "auth_rimap: sending ",
    "pw mismatch: '",
    "pw mismatch: ",
    "auth_httpform: sending ",
)

# --- credential shapes, anywhere in any line ---------------------------------------------
_PASSWORD_KEYS = (
    r"(?i:(?:^|[^a-z0-9_]|#011)(?:pass|password|passwd|pwd|userpassword|user_password|secret|"
    r"client_secret|api_?key)=)"
)
# a password field of a tab-separated (Dovecot) line ends only at a tab: spaces are allowed
_FIELD_TAB = re.compile(_PASSWORD_KEYS + r"(?P<s>[^\t]*?)(?=\t|#011|$)")
_FIELD = re.compile(_PASSWORD_KEYS + r"(?P<s>\"[^\"]*\"|'[^']*'|[^\t& ]*)")
# base64 / hex tokens (Dovecot resp=, auth_token=, OAuth token=) end at white space or '#'
_TOKEN_FIELD = re.compile(r"(?i:(?:^|[^a-z0-9_]|#011)(?:resp|auth_token|token)=)(?P<s>[^\t&# ]*)")
_QUOTED_PASSWORD = re.compile(
    r"(?i:(?:^|[^a-z])(?:password|passwd|pass))(?:['\"]?[ ]?[:=][ ]?|[ ])['`\"](?P<s>[^'\"]*)['\"]"
)
_TOKEN_END = r"(?=[ ?\t\"']|#011|$)"
_AUTH = re.compile(
    r"(?i:(?:^|[^a-z0-9])auth)[ ]+(?P<mech>[A-Za-z0-9_-]{1,20})"
    r"(?P<rest>(?:(?:[ ]+|[?]{1,2})" + _B64 + _TOKEN_END + r")+)"
)
_AUTH_TOKEN = re.compile(_B64)
_BARE_DIALOGUE = re.compile(r"^[<>] [^ ]+: (?P<s>" + _B64 + r")$")
_BARE_TLS = re.compile(r"(?:Read|Write) [0-9]+ chars: (?P<s>" + _B64 + r")[?]*$")
#: a Dovecot password scheme prefix (doc/wiki Authentication.PasswordSchemes; src/auth/password-scheme*.c)
_SCHEME = (
    r"\{[A-Z0-9-]*(?:CRYPT|SHA|MD4|MD5|PLAIN|CLEAR|ARGON2I|ARGON2ID|PBKDF2|NTLM|LANMAN|RPA|OTP|SKEY|SCRAM)"
    r"[A-Z0-9-]*(?:\.(?:HEX|B64|BASE64))?\}"
)
_HASH = re.compile(
    r"(?P<s>" + _SCHEME + r"[^\t\s'\"]+"
    r"|\$(?:1|2[abxy]?|5|6|7|y|gy|argon2(?:i|d|id)|sha1|md5|pbkdf2[a-z0-9-]*)\$[A-Za-z0-9./$=,+-]{8,})"
)
#: mechanism names SASL clients use (RFC 4422 registry and common extensions)
_MECHS = frozenset(
    [
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
        "DIGEST-MD5",
        "NTLM",
        "GSSAPI",
        "GS2-KRB5",
        "XOAUTH",
        "XOAUTH2",
        "OAUTHBEARER",
        "EXTERNAL",
        "ANONYMOUS",
        "OTP",
        "SKEY",
        "SRP",
        "SCRAM-SHA-1",
        "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-256",
        "SCRAM-SHA-256-PLUS",
        "SCRAM-SHA-512",
        "SCRAM-SHA-512-PLUS",
        "APOP",
        "KERBEROS_V4",
        "MSN",
    ]
)


def marker(secret: str) -> str:
    """The text that stands in for a secret."""
    return f"<redacted:{len(secret)}>"


def _auth_secrets(text: str) -> Iterable[str]:
    """Responses of ``AUTH <mech> <resp>`` and pipelined ``AUTH LOGIN??<user>??<pass>``."""
    for m in _AUTH.finditer(text):
        if m["mech"].upper() not in _MECHS and not m["mech"].isupper():
            continue
        for token in _AUTH_TOKEN.findall(m["rest"]):
            if len(token) >= 2 and token.upper() not in _MECHS and not (len(token) <= 3 and token.isdigit()):
                yield token


def _is_bare_response(token: str) -> bool:
    """A lone base64 word a client sent (not an SMTP verb, not a three-digit reply code)."""
    return token.upper() not in _SMTP_VERBS and not (len(token) == 3 and token.isdigit())


def find_secrets(text: str | None, *, gate: bool = True) -> list[str]:
    """Return the secrets in one logged text (the message after the syslog header).

    Parameters
    ----------
    text
        A message or a whole line; attacker-controlled.
    gate
        Look only when :data:`TRIGGER` matches (the default, as ingest does). ``False`` runs
        every rule on any text: tests check with it that the trigger misses no secret.

    Returns
    -------
    list of str
        The secret substrings, in order of discovery, without duplicates (empty when the
        text holds none).

    Examples
    --------
    >>> find_secrets("auth: Debug: client in: CONT#0111#011cGFzc3dvcmQ=")
    ['cGFzc3dvcmQ=']
    >>> find_secrets("warning: hostname does not resolve to address 1.2.3.4")
    []
    """
    if not text or (gate and TRIGGER_RE.search(text) is None):
        return []
    found: list[str] = []
    for literal, (rx, groups) in zip(_KNOWN_LITERALS, _KNOWN, strict=True):
        if literal not in text:
            continue
        m = rx.search(text)
        if m is not None:
            found.extend(m[g] for g in groups if m[g] is not None)
    tabbed = "\t" in text or "#011" in text
    for m in (_FIELD_TAB if tabbed else _FIELD).finditer(text):
        found.append(m["s"].strip("\"'") if not tabbed else m["s"])
    found.extend(m["s"] for m in _TOKEN_FIELD.finditer(text))
    for m in _QUOTED_PASSWORD.finditer(text):
        found.append(m["s"])
    found.extend(_auth_secrets(text))
    for rx in (_BARE_DIALOGUE, _BARE_TLS):
        b = rx.search(text)
        if b is not None and _is_bare_response(b["s"]):
            found.append(b["s"])
    found.extend(m["s"] for m in _HASH.finditer(text))
    return list(dict.fromkeys(s for s in found if s.strip() not in _HIDDEN))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of the secrets in ``text`` by their markers, in one pass.

    Longer secrets are replaced first, so a secret inside another leaves no remainder.

    Examples
    --------
    >>> redact_text("user=bob pass=hunter2", ["hunter2"])
    'user=bob pass=<redacted:7>'
    """
    todo = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not todo or not text:
        return text
    rx = re.compile("|".join(re.escape(s) for s in todo))
    return rx.sub(lambda m: marker(m.group(0)), text)


def redact_row(row: MutableMapping[str, Any]) -> list[str]:
    """Cut the secrets of one event row out of its message and every derived column.

    The secret the line kind knows (:func:`redact.secret_in_payload`: a TLS read, a dialogue
    line, a given password) comes first, then those :func:`find_secrets` sees in the message.

    Parameters
    ----------
    row
        The row (column → value, at least ``kind``, ``message``, and ``direction`` /
        ``payload`` when the kind has them); string columns of :data:`REDACTED_COLUMNS` are
        rewritten in place and ``secret_length`` is set to the length of the first secret.

    Returns
    -------
    list of str
        The secrets taken out (empty when the line holds none).
    """
    first = None
    if row.get("kind") in redact.SECRET_KINDS:
        first = redact.secret_in_payload(str(row["kind"]), row.get("direction"), row.get("payload"))
    found = find_secrets(row.get("message"))
    secrets = list(dict.fromkeys([first, *found] if first else found))
    if not secrets:
        return []
    # a derived column may hold a secret without the closing bracket or quote that the
    # line had after it (helo=<...>, ...): cut those forms out of it as well
    cores = [c for c in (s.rstrip(">)]}'\",;") for s in secrets) if len(c) >= 4]
    for col in REDACTED_COLUMNS:
        value = row.get(col)
        if isinstance(value, str):
            row[col] = redact_text(value, secrets if col == "message" else [*secrets, *cores])
    row["secret_length"] = len(secrets[0])
    return secrets
