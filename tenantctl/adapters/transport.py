"""HTTP plumbing the adapters share: retries, and readable transport failures.

The three adapters share this: whatever library raised it, a refused
connection, a DNS failure, a TLS failure or a timeout reads the same way and
names the URL and the setting that controls it.
"""

from __future__ import annotations

import requests
from urllib3.util.retry import Retry

from tenantctl.errors import RemoteError


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
    return RemoteError(
        system,
        f"cannot reach {url} ({_reason(exc)})",
        url=url,
        hint=f"check {setting}.url in the site config and that the server runs",
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
        return "the server failed; try again later"
    return hints.get(status or 0)


def retry_policy(total: int) -> Retry:
    """Bounded retries on 429 (honouring Retry-After) and on 5xx answers."""
    return Retry(
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
