"""Logged SMTP AUTH dialogue decoded to user names and password facts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from ..credentials import decode_response, password_facts
from ..sessions import RowSessions
from .outcomes import SASL_STAGES

__all__ = ["with_decoded_dialogue"]


def _cell(frame: pd.DataFrame, index: Any, col: str) -> Any:
    return frame.at[index, col]


def _set(frame: pd.DataFrame, index: Any, col: str, value: Any) -> None:
    frame.at[index, col] = value


def with_decoded_dialogue(
    attempts: pd.DataFrame,
    events: pd.DataFrame,
    kind: pd.Series,
    rows: np.ndarray,
    row_session: RowSessions,
    secrets: pd.DataFrame,
    *,
    reveal: bool,
    key: bytes | None,
) -> pd.DataFrame:
    """Decode AUTH dialogue logged for a session and attach it to that session's attempts."""
    mask = kind.isin(["tls_data", "smtp_dialogue", "sasl_debug"])
    d = events.loc[mask, ["ts", "kind", "direction", "payload", "io_length", "source_file", "line_no"]].copy()
    if d.empty:
        return attempts
    d["session_id"] = row_session.ids_of(rows[mask.to_numpy()], missing=np.nan)
    sec: dict[tuple[str, int], str] = {}
    for f, n, s in zip(secrets["source_file"], secrets["line_no"], secrets["secret"], strict=True):
        sec.setdefault((str(f), int(n)), s)  # the line kind's own secret comes first
    per_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pending: dict[str, dict[str, Any]] = {}
    challenge: dict[str, str] = {}
    for rec in d.to_dict("records"):
        sid = rec["session_id"]
        if sid is None or (isinstance(sid, float) and np.isnan(sid)):
            continue
        payload = str(rec["payload"] or "")
        where: dict[str, Any] = {"source_file": str(rec["source_file"]), "line_no": int(rec["line_no"])}
        secret = sec.get((str(rec["source_file"]), int(rec["line_no"])))
        client = rec["direction"] in ("Read", "<") or rec["kind"] == "sasl_debug"
        text = payload[:-2] if payload.endswith("??") else payload
        cut = rec["kind"] == "tls_data" and pd.notna(rec["io_length"]) and int(rec["io_length"]) > 40
        full_len = int(rec["io_length"]) if pd.notna(rec["io_length"]) else None
        if not client:
            reply = text.split(" ", 2)
            if reply[0] == "334":
                challenge[sid] = SASL_STAGES.get(reply[1] if len(reply) > 1 else "", "")
            elif reply[0][:1] in ("2", "4", "5") and sid in pending:
                per_session[sid].append(pending.pop(sid))
            continue
        # a pipelined "AUTH LOGIN??<user>??<pass>": the mechanism ends at the logged CR LF
        words = text.split("?", 1)[0].split()
        if words and words[0].upper() == "AUTH" and len(words) >= 2:
            if sid in pending:
                per_session[sid].append(pending.pop(sid))
            att: dict[str, Any] = {"mechanism": words[1].upper(), "evidence": [where], "username": None}
            if secret is not None:
                n = full_len - 2 - len(" ".join(words[:2])) - 1 if full_len is not None else None
                _absorb(att, decode_response(words[1], secret, step="initial", logged_length=n, cut=cut))
            pending[sid] = att
            challenge.pop(sid, None)
        elif sid in pending and secret is not None:
            att = pending[sid]
            step = challenge.get(sid) or ("username" if att["username"] is None else "password")
            n = full_len - 2 if full_len is not None else None
            _absorb(att, decode_response(att["mechanism"], secret, step=step, logged_length=n, cut=cut))
            att["evidence"].append(where)
    for sid, att in pending.items():
        per_session[sid].append(att)
    if not per_session:
        return attempts
    attempts = attempts.copy()
    for sid, decoded in per_session.items():
        mine = attempts.index[(attempts["session_id"] == sid)]
        mine = attempts.loc[mine].sort_values("ts", kind="stable").index
        for a, att in zip(mine, decoded, strict=False):
            if att["username"] and _cell(attempts, a, "username_source") == "none":
                _set(attempts, a, "username", att["username"])
                _set(attempts, a, "username_source", "decoded")
            if pd.isna(_cell(attempts, a, "mechanism")):
                _set(attempts, a, "mechanism", att["mechanism"])
            _set(attempts, a, "evidence", [*_cell(attempts, a, "evidence"), *att["evidence"]])
            pw = att.get("password")
            if pw is not None:
                facts = password_facts(pw, key or b"")
                _set(attempts, a, "password_class", facts["password_class"])
                _set(attempts, a, "password_hmac", facts["password_hmac"] if key else None)
                _set(attempts, a, "password_truncated", not att["password_complete"])
                lo, hi = att["password_length"] or (len(pw), None)
                _set(attempts, a, "password_length_min", lo)
                _set(attempts, a, "password_length_max", hi)
                if reveal:
                    _set(attempts, a, "password", pw + ("…" if not att["password_complete"] else ""))
    return attempts


def _absorb(att: dict[str, Any], creds: Any) -> None:
    if creds.username is not None and att.get("username") is None:
        att["username"] = creds.username
    if creds.password is not None:
        att["password"] = creds.password
        att["password_complete"] = creds.password_complete
        att["password_length"] = creds.password_length
