"""The vocabulary of an authentication attempt: its columns, outcomes and verdict texts."""

from __future__ import annotations

import pandas as pd

__all__ = [
    "ATTEMPT_COLUMNS",
    "BACKEND_ERRORS",
    "FAILED_OUTCOMES",
    "FAILED_VERDICTS",
    "LOGIN_REASON_OUTCOMES",
    "POSTFIX_SIDE_ERRORS",
    "REFUSED_OUTCOMES",
    "SASL_STAGES",
    "SERVER_ERROR",
    "account_exists",
    "empty_attempts",
    "is_failed_verdict",
]

#: outcomes of an attempt that did not log in through the client's doing: what counts as a
#: failed login (a guess) everywhere; ``server_error`` is not one of them
FAILED_OUTCOMES = ("failed", "rejected", "aborted", "rate_limited")
#: of those, the ones where the server refused before any password was checked
REFUSED_OUTCOMES = ("rejected", "rate_limited")
#: the authentication backend did not answer: the server's fault, never the attacker's
SERVER_ERROR = "server_error"

ATTEMPT_COLUMNS = [
    "ts",
    "client_ip",
    "session_id",
    "service",
    "tls",
    "credentials_logged",
    "mechanism",
    "username",
    "username_source",
    "account_exists",
    "outcome",
    "stage",
    "reason",
    "password_length_min",
    "password_length_max",
    "password_truncated",
    "password_class",
    "password_hmac",
    "password",
    "evidence",
]

#: failure reasons that are the server's fault, not a wrong password
BACKEND_ERRORS = (
    "Connection lost to authentication server",
    "Can't connect to authentication server",
    "Authentication backend error",
)
#: failure reasons Postfix produces without asking the SASL backend
POSTFIX_SIDE_ERRORS = ("Invalid authentication mechanism", "Invalid base64 data")
#: the base64 SASL challenges of the LOGIN mechanism and the stage each asks for
SASL_STAGES = {"UGFzc3dvcmQ6": "password", "VXNlcm5hbWU6": "username"}


def account_exists(result: str) -> bool | None:
    """What a Dovecot/PAM verdict says about the account: exists, does not, or unknown.

    >>> [account_exists(r) for r in ["unknown user", "Password mismatch",
    ...  "pam_authenticate() failed: User not known to the underlying authentication module",
    ...  "pam_authenticate() failed: Authentication failure (password mismatch?)", "invalid credentials"]]
    [False, True, False, True, None]
    """
    r = result.lower()
    if "unknown user" in r or "user not known" in r or "user unknown" in r:
        return False
    if "mismatch" in r or "authentication failure" in r:
        return True
    return None


#: Dovecot/PAM verdict texts that refuse a login (lower case, searched in the text). Other
#: texts of the same request prefix are no attempt: "Master user logging in as u", "login
#: user: u", "Falling back to expired data from cache", errors of the backend ("Password
#: query failed"). core src/auth (2.2-2.4): auth-request.c "unknown user", "Password
#: mismatch", "User found from deny passdb", "allow_nets check failed", "No password returned
#: (and no nopassword)"; passdb-pam.c "pam_authenticate() failed: ..."; db-checkpassword.c
#: "Login failed (status=%d)", "User unknown"; passdb-ldap.c "Password mismatch (for LDAP
#: bind)", "Login attempt with empty password"; auth-policy.c "Authentication failure due
#: to policy server refusal"; mech-*.c "password mismatch", "user not authenticated".
FAILED_VERDICTS = (
    "unknown user",
    "user unknown",
    "user not known",
    "username not known",
    "mismatch",
    "authentication failure",
    "pam_authenticate() failed",
    "login failed",
    "deny passdb",
    "check failed",
    "not authorized",
    "not authenticated",
    "oauth2 failed",
    "illegal chars",
    "empty password",
    "no password returned",
)


def is_failed_verdict(result: str) -> bool:
    """Does a Dovecot/PAM verdict text say a login was refused?

    >>> [is_failed_verdict(r) for r in ["unknown user", "Password mismatch (for LDAP bind)",
    ...  "Master user logging in as bob", "login user: bob", "Password query failed: timeout"]]
    [True, True, False, False, False]
    """
    r = result.lower()
    return any(v in r for v in FAILED_VERDICTS)


#: login-process failure reasons (``dovecot_login`` ``reason``) and the outcome of each of
#: the connection's attempts; a reason not listed (user disabled, password expired...) and
#: a summary without one count no attempt
LOGIN_REASON_OUTCOMES = {
    "auth failed": "failed",
    "authorization failed": "failed",
    "proxy dest auth failed": "failed",
    "proxy dest authentication failure": "failed",
    "tried to use disabled plaintext auth": "rejected",
    "tried to use disallowed plaintext auth": "rejected",
    "tried to use disallowed cleartext auth": "rejected",
    "auth service reported temporary failure": "server_error",
    "temporary authentication failure": "server_error",
    "proxy dest temporary authentication failure": "server_error",
    # the login process lost its auth process: the server's fault, whatever was sent
    "auth process communication failure": "server_error",
    # refused before any password was checked
    "sent invalid base64 in response": "rejected",
    "tried to use unsupported auth mechanism": "rejected",
    # the client gave up in the middle of the SASL exchange (Postfix's "aborted" too)
    "aborted authentication": "aborted",
    "auth aborted by client": "aborted",
}


def empty_attempts() -> pd.DataFrame:
    """An attempts frame without rows (every column, object dtype)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ATTEMPT_COLUMNS})
