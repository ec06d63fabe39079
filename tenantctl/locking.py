"""One writer per tenant: a lock kept in Vault, so it holds across machines.

The lock is a KV v2 key, ``<prefix>/locks/<tenant>``, written only with
check-and-set: two runs that both find it free both write with the version
they read, and Vault lets exactly one through. The key's versions are its
history (who held it, from when, until when). A held lock names its owner
(host, process id, command) and an expiry; a holder renews it while it
works, so a lock past its expiry belongs to a run that died, and the next
run takes it over and says so; on the holder's own host, a holder whose
process is gone is known dead at once. Release writes a "free" version.

Expiry is judged by this machine's clock: machines that share a site must
keep their clocks in step (NTP), well within the lock's lifetime.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tenantctl.adapters.vault import Vault
from tenantctl.errors import TenantctlError

log = logging.getLogger(__name__)

DEFAULT_TTL = 300.0
Notify = Callable[[str], None]


class LockTimeout(TenantctlError):
    """Another run held the tenant's lock for longer than we would wait."""


@dataclass(frozen=True)
class Owner:
    """Who holds a lock: enough for an operator to find the run."""

    host: str
    pid: int
    command: str

    @classmethod
    def this_process(cls, command: str) -> Owner:
        return cls(host=socket.gethostname(), pid=os.getpid(), command=command)

    def describe(self) -> str:
        return f"{self.command} (pid {self.pid} on {self.host})"


def lock_path(vault: Vault, tenant: str) -> str:
    return vault.path("locks", tenant)


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def _process_alive(pid: int) -> bool:
    """Whether a process of this host has ``pid`` (a reused pid counts as
    alive: the lock then lapses at its expiry, as on another host)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(data: dict[str, Any]) -> str:
    owner = Owner(
        host=str(data.get("host", "?")),
        pid=int(data.get("pid") or 0),
        command=str(data.get("command", "?")),
    )
    return owner.describe()


class TenantLock:
    """The tenant's lock, held from ``acquire`` (or ``with``) to ``release``.

    ``acquire`` waits up to ``timeout`` seconds for a held lock, then raises
    LockTimeout naming the holder. While held, a thread renews the expiry
    every third of ``ttl``, so only a dead run's lock goes stale.
    """

    def __init__(
        self,
        vault: Vault,
        tenant: str,
        command: str,
        *,
        timeout: float = 60.0,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
        notify: Notify | None = None,
    ) -> None:
        self.vault = vault
        self.tenant = tenant
        self.path = lock_path(vault, tenant)
        self.owner = Owner.this_process(command)
        self.timeout = timeout
        self.ttl = ttl
        self.clock = clock
        self.notify: Notify = notify or log.warning
        self.holder_id = uuid.uuid4().hex
        self.version: int | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._write = threading.Lock()

    @property
    def held(self) -> bool:
        return self.version is not None

    # -- acquiring -------------------------------------------------------

    def acquire(self) -> None:
        """Hold the lock, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + self.timeout
        pause = 0.1
        waiting_said = False
        while True:
            blocker = self._try_take()
            if blocker is None:
                self._start_renewing()
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timeout(blocker)
            if not waiting_said:
                self.notify(
                    f"tenant {self.tenant} is locked by {_holder(blocker)}; "
                    f"waiting up to {self.timeout:.0f} s"
                )
                waiting_said = True
            time.sleep(min(pause, left))
            pause = min(pause * 2, 2.0)

    def _try_take(self) -> dict[str, Any] | None:
        """Take the lock if free or stale; the holder's record if not."""
        record = self.vault.read(self.path)
        if record is None:
            cas = self.vault.current_version(self.path)
        else:
            cas = record.version
            data = record.data
            if data.get("state") == "held":
                if data.get("holder_id") == self.holder_id:
                    # Our own write landed though its answer was lost.
                    self.version = record.version
                    return None
                why = self._stale(data)
                if why is None:
                    return data
                self.notify(
                    f"taking over the lock on tenant {self.tenant}: "
                    f"{_holder(data)} held it, but {why}"
                )
        version = self.vault.write_if(self.path, self._held(), cas)
        if version is None:
            # Another run wrote first: read again to learn who holds it.
            again = self.vault.read(self.path)
            return again.data if again is not None else {"state": "held"}
        self.version = version
        return None

    def _stale(self, data: dict[str, Any]) -> str | None:
        """Why a held lock is stale, or None while its holder may live."""
        if float(data.get("expires", 0)) <= self.clock():
            return f"did not renew it after {data.get('expires_at')} (it died?)"
        same_host = data.get("host") == self.owner.host
        if same_host and not _process_alive(int(data.get("pid") or 0)):
            return "that process is gone from this host"
        return None

    def _held(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "state": "held",
            "tenant": self.tenant,
            "holder_id": self.holder_id,
            "host": self.owner.host,
            "pid": self.owner.pid,
            "command": self.owner.command,
            "acquired_at": _iso(now),
            "expires": now + self.ttl,
            "expires_at": _iso(now + self.ttl),
        }

    def _timeout(self, blocker: dict[str, Any]) -> LockTimeout:
        until = blocker.get("expires_at", "?")
        return LockTimeout(
            f"tenant {self.tenant} is locked by {_holder(blocker)}; "
            f"gave up after waiting {self.timeout:.0f} s",
            hint=f"run again when that run ends (its lock lapses at {until} "
            "if it died), or wait longer with --lock-timeout",
        )

    # -- holding ---------------------------------------------------------

    def _start_renewing(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"lock-{self.tenant}", daemon=True
        )
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            if not self.renew():
                return

    def renew(self) -> bool:
        """Push the expiry out by ``ttl``; False when the lock was lost."""
        with self._write:
            if self.version is None or self._stop.is_set():
                return False
            try:
                version = self.vault.write_if(self.path, self._held(), self.version)
            except TenantctlError as exc:
                log.warning("could not renew the lock on %s: %s", self.tenant, exc)
                return True
            if version is None:
                self.notify(f"the lock on tenant {self.tenant} was taken over")
                self.version = None
                return False
            self.version = version
            return True

    # -- releasing -------------------------------------------------------

    def release(self) -> None:
        """Free the lock (a no-op when it was not held or was lost)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        with self._write:
            if self.version is None:
                return
            freed = {
                "state": "free",
                "tenant": self.tenant,
                "released_at": _iso(self.clock()),
                "released_by": self.owner.describe(),
            }
            try:
                done = self.vault.write_if(self.path, freed, self.version)
            except TenantctlError as exc:
                log.warning(
                    "could not release the lock on %s (it lapses by itself): %s",
                    self.tenant,
                    exc,
                )
                return
            finally:
                self.version = None
        if done is None:
            self.notify(f"the lock on tenant {self.tenant} was taken over while held")

    def __enter__(self) -> TenantLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
