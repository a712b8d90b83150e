"""Addresses and domains the way pflogsumm 1.1.5 groups them (so that counts agree).

pflogsumm lower-cases an address from its ``@`` on (the local part keeps its case), names
the null sender ``from=<>``, takes a recipient's domain as everything after the first
``@``, and shortens a client host name to its last two labels (three for a two-letter
second level such as ``co.uk``), using the address when the name is ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

__all__ = ["client_domain", "map_unique", "normal_address", "recipient_domain", "sender_domain"]

_AT_REST = re.compile(r"@.+$")
# "name[1.2.3.4]" (IPv4 in brackets), old "name/1.2.3.4", else any "name[x]" / "name(x)"
_NAME_V4 = re.compile(r"^([^\[]*)\[((?:[0-9]{1,3}\.){3}[0-9]{1,3})\]")
_NAME_SLASH = re.compile(r"^([^/]*)/([0-9a-f.:]+)", re.IGNORECASE)
_NAME_ANY = re.compile(r"^([^\[(/]*)[\[(/]([^\])]+)[\])]:?[0-9]*$")
# the last two labels, or three when the top one is "xx.yy" with a short second level
_TAIL_LABELS = re.compile(r"^(.*)\.([^.]+)\.([^.]{3}|[^.]{2,3}\.[^.]{2})$")


def normal_address(address: str | None) -> str:
    """An envelope address as pflogsumm lists it.

    Examples
    --------
    >>> normal_address("Alice@Example.COM")
    'Alice@example.com'
    >>> normal_address("")
    'from=<>'
    """
    if not address:
        return "from=<>"
    return _AT_REST.sub(lambda m: m.group(0).lower(), address, count=1)


def recipient_domain(address: str) -> str:
    """Everything after the first ``@`` (the whole address when there is none before it).

    Examples
    --------
    >>> recipient_domain("bob@mail.example.org")
    'mail.example.org'
    >>> recipient_domain("root")
    'root'
    """
    head, at, tail = address.partition("@")
    return tail if at and head else address


def sender_domain(address: str, client: str | None) -> str:
    """The sending host/domain: the sender's domain, else the client's (``pickup``: the address).

    Examples
    --------
    >>> sender_domain("a@lists.example.org", "mx.example.net[192.0.2.1]")
    'lists.example.org'
    >>> sender_domain("from=<>", "mail.example.net[192.0.2.1]")
    'example.net'
    >>> sender_domain("root", "pickup")
    'root'
    """
    head, at, tail = address.partition("@")
    if at and head and tail:
        return tail
    if client == "pickup":
        return address
    return client_domain(client or "")


def client_domain(client: str) -> str:
    """A client ``name[addr]`` as a domain: the name's last labels, or the address.

    Examples
    --------
    >>> client_domain("mail-ed1.Example.com[192.0.2.7]")
    'example.com'
    >>> client_domain("unknown[192.0.2.7]")
    '192.0.2.7'
    >>> client_domain("unknown[2001:db8::1]")
    '2001:db8::1'
    >>> client_domain("smtp.example.co.uk[192.0.2.8]")
    'example.co.uk'
    """
    m = _NAME_V4.match(client) or _NAME_SLASH.match(client) or _NAME_ANY.match(client)
    name, addr = (m.group(1), m.group(2)) if m else ("", "")
    if name in ("", "unknown"):
        return addr
    tail = _TAIL_LABELS.match(name)
    return f"{tail.group(2)}.{tail.group(3)}".lower() if tail else name


def map_unique(values: pd.Series, fn: Callable[[Any], str]) -> pd.Series:
    """Apply a function once per distinct value (addresses repeat a lot)."""
    uniques = pd.unique(values.astype(object))
    table = {u: fn(u) for u in uniques}
    return values.astype(object).map(table)
