"""Authentication attempts: one row per attempt, from every source the logs offer.

Sources: smtpd SASL failure / abort warnings; anvil's "AUTH command rate limit exceeded";
successes (``client=… sasl_username=``) and silent successes known only from a session's
``auth=N`` counter; attempts seen only in the disconnect counters (:mod:`.postfix`);
Dovecot passdb lines (``unknown user`` vs ``Password mismatch``: does the account exist?)
merged with the Postfix warning of the same attempt, and so are Cyrus saslauthd's verdicts
(``do_auth: auth failure: [user=...]``) and PAM lines (:mod:`.pairing`); Dovecot login
summaries (:mod:`.login_summaries`); and SMTP dialogue logged at ``smtpd_tls_loglevel = 4``
or for ``debug_peer_list`` peers, decoded to user names and password facts, the password
itself only on request (:mod:`.dialogue`). :mod:`.outcomes` is the vocabulary they share;
:mod:`.attempts` puts them together.
"""

from __future__ import annotations

from .attempts import EVENT_COLUMNS, EVENT_ROWS, auth_attempts_from_events
from .outcomes import (
    ATTEMPT_COLUMNS,
    BACKEND_ERRORS,
    FAILED_OUTCOMES,
    POSTFIX_SIDE_ERRORS,
    REFUSED_OUTCOMES,
    SERVER_ERROR,
    account_exists,
    is_failed_verdict,
)

__all__ = [
    "ATTEMPT_COLUMNS",
    "BACKEND_ERRORS",
    "EVENT_COLUMNS",
    "EVENT_ROWS",
    "FAILED_OUTCOMES",
    "POSTFIX_SIDE_ERRORS",
    "REFUSED_OUTCOMES",
    "SERVER_ERROR",
    "account_exists",
    "auth_attempts_from_events",
    "is_failed_verdict",
]
