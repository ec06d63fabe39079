"""Secret values: a type that never prints itself, and a log filter.

Every secret tenantctl handles travels as a ``Secret``. Its ``str`` and
``repr`` are ``***``; only ``reveal()`` gives the value, at the one place it
is sent to a server. As a second line of defence, every ``Secret`` made is
remembered so the log filter can scrub its value from any log record, and
token-shaped strings are scrubbed too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "***"

# GitLab token prefixes (doc/security/tokens), Vault service, batch and
# recovery tokens and its legacy "s." form, and JWTs.
_TOKEN_SHAPES = re.compile(
    r"\b(?:glpat|glrt|gldt|glptt|glcbt|gloas|glsoat)-[A-Za-z0-9_\-.]{16,}"
    r"|\bhv[sbr]\.[A-Za-z0-9_\-]{20,}"
    r"|(?<![\w.])s\.[A-Za-z0-9]{24}\b"
    r"|\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]*"
)


class _Registry:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) >= 6:
            with self._lock:
                self._values.add(value)

    def scrub(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            text = text.replace(value, REDACTED)
        return _TOKEN_SHAPES.sub(REDACTED, text)


_registry = _Registry()


class Secret:
    """A secret string that redacts itself everywhere but ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        _registry.add(value)

    def reveal(self) -> str:
        return self._value

    def fingerprint(self) -> str:
        """A short, non-reversible digest for comparing values in output."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:12]

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


_SECRET_KEYS = re.compile(
    r"token|secret|password|value|credential|private", re.IGNORECASE
)
_BODY_LIMIT = 2000


def redact_body(body: str | bytes | None) -> str:
    """A request or response body fit for a debug log: values of keys that
    name secrets (``token``, ``password``, ``value``...) as ``***``, token
    shapes scrubbed, and cut to a readable length."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        text = json.dumps(_redact(json.loads(text)))
    except ValueError:
        if "=" in text and " " not in text:
            pairs = parse_qsl(text, keep_blank_values=True)
            text = urlencode(
                [(k, REDACTED if _SECRET_KEYS.search(k) else v) for k, v in pairs]
            )
    text = scrub(text)
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "..."


def _redact(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: REDACTED if _SECRET_KEYS.search(str(k)) and v else _redact(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_redact(item) for item in data]
    return data


def scrub(text: str) -> str:
    """``text`` with every known secret and token-shaped string redacted."""
    return _registry.scrub(text)


class RedactingFilter(logging.Filter):
    """Scrubs secrets from every log record that passes through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = scrub(message)
        record.args = None
        return True
