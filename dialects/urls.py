"""Warehouse URLs, taken apart once for every client (``scheme://user:secret@host:port/a/b?k=v``).

Each adapter picks the parts its client needs; query parameters it does not know are passed
on to the client's connect call, so a local stand-in is reachable with the same URL form as
the real warehouse. Query-string values arrive as text: :func:`client_value` turns the ones
that are plainly numbers or booleans into those, because clients check the types.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from .base import redact_url


@dataclass(frozen=True)
class WarehouseURL:
    scheme: str
    user: str | None
    password: str | None
    host: str | None
    port: int | None
    #: The path's parts, percent-decoded: ``/db/schema`` → ``("db", "schema")``.
    path: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)

    def secret(self, dialect: str) -> str | None:
        """The password in the URL, else ``$LA_<DIALECT>_PASSWORD`` (None when neither)."""
        return self.password or os.environ.get(f"LA_{dialect.upper()}_PASSWORD") or None

    def pop(self, name: str, default: str | None = None) -> str | None:
        """Take a parameter the adapter handles itself, so it is not passed on again."""
        return self.params.pop(name, default)


def parse_url(url: str, scheme: str) -> WarehouseURL:
    """Split ``url``; a ValueError (naming the URL redacted) when it is not ``scheme://…``."""
    parts = urlsplit(url)
    if parts.scheme.lower() != scheme or "://" not in url:
        raise ValueError(f"expected a {scheme}:// URL, got {redact_url(url)!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"the port in {redact_url(url)!r} is not a number") from None
    path = tuple(unquote(p) for p in parts.path.split("/") if p)
    params: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in params:
            raise ValueError(f"parameter {name!r} is given twice in {redact_url(url)!r}")
        params[name] = value
    return WarehouseURL(
        scheme=scheme,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        host=parts.hostname,
        port=port,
        path=path,
        params=params,
    )


#: Parameter names whose values clients expect as numbers (a port, a timeout, a count);
#: every other value stays text, so a warehouse called ``2024`` is not turned into 2024.
_NUMERIC = ("port", "timeout", "retries", "seconds", "size", "limit", "interval")


def client_value(name: str, text: str) -> str | int | float | bool:
    """A query-string value as the client expects it: ``true``/``false`` → booleans;
    ``port=8765`` → 8765 and ``timeout=2.5`` → 2.5 for numeric parameters; else the text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if name.lower().endswith(_NUMERIC):
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text
    return text


def client_kwargs(params: dict[str, str]) -> dict[str, str | int | float | bool]:
    """The parameters the adapter did not take, typed for the client's connect call."""
    return {name: client_value(name, value) for name, value in params.items()}
