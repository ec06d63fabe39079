"""HTTP plumbing the adapters share: retries, and readable transport failures.

The three adapters share this: whatever library raised it, a refused
connection, a DNS failure, a TLS failure or a timeout reads the same way and
names the URL and the setting that controls it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.util.retry import Retry

from tenantctl.errors import RemoteError
from tenantctl.secrets import redact_body


def transport_error(
    system: str, url: str, setting: str, exc: requests.RequestException
) -> RemoteError:
    """A RemoteError for a request that never got an HTTP answer."""
    if isinstance(exc, requests.exceptions.SSLError):
        return RemoteError(
            system,
            f"TLS verification failed for {url}",
            url=url,
            hint=f"set {setting}.ssl_verify to the path of your CA bundle "
            "(or false, for a test server only)",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return RemoteError(
            system,
            f"{url} did not answer in time",
            url=url,
            hint=f"check that the server is up, or raise {setting}.timeout",
        )
    reason = _reason(exc)
    if reason in _BROKEN:
        return RemoteError(
            system,
            f"the connection to {url} broke before the answer ({reason})",
            url=url,
            hint=AGAIN,
        )
    return RemoteError(
        system,
        f"cannot reach {url} ({reason})",
        url=url,
        hint=f"check {setting}.url in the site config and that the server runs",
    )


# A request whose answer was lost may have been carried out: say so.
_BROKEN = ("connection reset", "remote end closed connection", "connection aborted")
AGAIN = (
    "the server may have made the change before failing; run the same "
    "command again: tenantctl reads what exists first, so nothing is done twice"
)


def _reason(exc: requests.RequestException) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Connection reset",
        "Remote end closed connection",
        "Connection aborted",
    ):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def status_hint(status: int | None, credential: str) -> str | None:
    """The likely fix for an HTTP status, naming the credential involved."""
    hints = {
        401: f"{credential} is wrong, expired or revoked: set a valid one",
        403: f"{credential} lacks a permission or scope this needs",
        429: "the server is rate limiting; try again later or lower --jobs",
    }
    if status is not None and status >= 500:
        return "the server failed; " + AGAIN
    return hints.get(status or 0)


# The longest single wait for a rate limit that tenantctl accepts: a server
# asking for more gets a clear error rather than a silent hang.
MAX_WAIT = 120


def log_http(
    session: requests.Session, system: str, max_wait: float = MAX_WAIT
) -> None:
    """Log every answer ``session`` gets: method, path, status and time at
    INFO (``-v``); request and response bodies, redacted, at DEBUG (``-vv``).
    A 429 is logged as a warning, since the caller then waits; one that asks
    for a wait longer than ``max_wait`` seconds fails at once."""
    logger = logging.getLogger(f"tenantctl.http.{system.lower()}")

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        elapsed = response.elapsed.total_seconds() * 1000
        logger.info(
            "%s %s %s -> %s (%.0f ms)",
            system,
            request.method,
            urlsplit(request.url or "").path,
            response.status_code,
            elapsed,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("request body: %s", redact_body(request.body))
            logger.debug("response body: %s", redact_body(response.content))
        if response.status_code == 429:
            _rate_limited(logger, system, response, max_wait)

    session.hooks["response"].append(hook)


def _rate_limited(
    logger: logging.Logger, system: str, response: requests.Response, max_wait: float
) -> None:
    wait = response.headers.get("Retry-After")
    seconds = float(wait) if wait and wait.isdigit() else None
    if seconds is not None and seconds > max_wait:
        raise RemoteError(
            system,
            f"rate limited: the server asks to wait {wait} s, more than the "
            f"{max_wait:.0f} s tenantctl waits",
            status=429,
            url=response.url,
            hint="run again later, or with fewer parallel --jobs",
        )
    logger.warning(
        "%s is rate limiting: waiting %s s, then retrying", system, wait or "a moment"
    )


class _CappedRetry(Retry):
    """urllib3's Retry, honouring Retry-After up to MAX_WAIT seconds."""

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_WAIT)


def retry_policy(total: int) -> Retry:
    """Bounded retries on 429 (honouring Retry-After) and on 5xx answers."""
    return _CappedRetry(
        total=total,
        connect=total,
        read=0,
        status=total,
        status_forcelist=(429, 500, 502, 503, 504),
        backoff_factor=0.5,
        backoff_max=30,
        respect_retry_after_header=True,
        raise_on_status=False,
        allowed_methods=None,
    )
