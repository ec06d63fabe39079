"""The per-tenant lock in Vault: one holder, waiting, stale take-over,
release on failure, and onboarding holding it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from tenantctl import onboarding
from tenantctl.adapters.vault import Vault
from tenantctl.config import load_config, load_credentials
from tenantctl.locking import LockTimeout, TenantLock
from tenantctl.playbook import load_playbook
from tenantctl.secrets import Secret
from tests.conftest import PLAYBOOKS, Site, tenantctl

LOCK = "tenantctl/locks/contractors"


def vault_of(site: Site) -> Vault:
    config = load_config(site.config)
    return Vault(config.vault, Secret(site.env["VAULT_TOKEN"]))


def lock_record(site: Site) -> dict[str, Any]:
    record = site.vault_read(LOCK)
    assert record is not None
    data: dict[str, Any] = record["data"]
    return data


def lock_versions(site: Site) -> int:
    meta = site.vault.secrets.kv.v2.read_secret_metadata(
        path=LOCK, mount_point="secret"
    )
    return int(meta["data"]["current_version"])


def test_a_held_lock_makes_the_second_wait_then_give_up(site: Site) -> None:
    first = TenantLock(vault_of(site), "contractors", "onboard", timeout=1)
    second = TenantLock(vault_of(site), "contractors", "rotate-tokens", timeout=0.5)
    heard: list[str] = []
    second.notify = heard.append

    with first:
        held = lock_record(site)
        with pytest.raises(LockTimeout) as error:
            second.acquire()

    assert held["state"] == "held"
    assert held["command"] == "onboard"
    assert held["pid"] == os.getpid()
    assert held["host"] == socket.gethostname()
    assert "locked by onboard" in str(error.value)
    assert "--lock-timeout" in str(error.value)
    assert heard and "waiting up to" in heard[0]
    assert lock_record(site)["state"] == "free"


def test_a_released_lock_is_taken_by_the_waiter(site: Site) -> None:
    first = TenantLock(vault_of(site), "contractors", "onboard")
    second = TenantLock(vault_of(site), "contractors", "rotate-tokens", timeout=10)
    first.acquire()

    started = time.monotonic()
    releaser = _later(1.0, first.release)
    with second:
        waited = time.monotonic() - started
        holder = lock_record(site)
    releaser.join()

    assert waited >= 0.9
    assert holder["command"] == "rotate-tokens"
    assert lock_record(site)["state"] == "free"
    # acquired, released, acquired, released: the key's history.
    assert lock_versions(site) == 4


def test_an_expired_lock_of_another_host_is_taken_over_with_a_warning(
    site: Site,
) -> None:
    vault = vault_of(site)
    now = time.time()
    vault.write(
        LOCK,
        {
            "state": "held",
            "holder_id": "someone-else",
            "host": "runner-7",
            "pid": 4242,
            "command": "rotate-tokens",
            "expires": now - 5,
            "expires_at": "a moment ago",
        },
    )
    heard: list[str] = []

    with TenantLock(vault, "contractors", "onboard", notify=heard.append, timeout=1):
        holder = lock_record(site)

    assert holder["command"] == "onboard"
    assert len(heard) == 1
    assert "taking over the lock" in heard[0]
    assert "rotate-tokens (pid 4242 on runner-7)" in heard[0]


def test_a_live_lock_of_another_host_is_not_taken(site: Site) -> None:
    vault = vault_of(site)
    vault.write(
        LOCK,
        {
            "state": "held",
            "holder_id": "someone-else",
            "host": "runner-7",
            "pid": 4242,
            "command": "rotate-tokens",
            "expires": time.time() + 300,
        },
    )

    with pytest.raises(LockTimeout):
        TenantLock(vault, "contractors", "onboard", timeout=0.3).acquire()

    assert lock_record(site)["host"] == "runner-7"


def test_the_lock_of_a_dead_process_on_this_host_is_taken_at_once(
    site: Site,
) -> None:
    gone = _dead_pid()
    vault = vault_of(site)
    vault.write(
        LOCK,
        {
            "state": "held",
            "holder_id": "crashed",
            "host": socket.gethostname(),
            "pid": gone,
            "command": "rotate-tokens",
            "expires": time.time() + 300,
        },
    )
    heard: list[str] = []

    with TenantLock(vault, "contractors", "onboard", notify=heard.append, timeout=0):
        assert lock_record(site)["command"] == "onboard"

    assert "process is gone" in heard[0]


def test_the_lock_is_released_when_the_work_fails(site: Site) -> None:
    lock = TenantLock(vault_of(site), "contractors", "onboard")

    with pytest.raises(RuntimeError), lock:
        raise RuntimeError("a step failed")

    assert lock_record(site)["state"] == "free"
    assert lock_record(site)["released_by"].startswith("onboard (pid ")


def test_a_holder_renews_its_lock_while_it_works(site: Site) -> None:
    lock = TenantLock(vault_of(site), "contractors", "onboard", ttl=0.6)

    with lock:
        first = lock_record(site)["expires"]
        time.sleep(0.9)
        later = lock_record(site)["expires"]

    assert later > first


def test_onboarding_waits_for_the_lock_and_fails_the_step_that_needs_it(
    site: Site,
) -> None:
    config = load_config(site.config)
    book = load_playbook(PLAYBOOKS / "contractors.yml")
    ctx = onboarding.build_context(
        config, load_credentials(config), book, dry_run=False
    )
    holder = TenantLock(vault_of(site), "contractors", "rotate-tokens")

    with holder:
        report = onboarding.onboard(ctx, _Quiet(), lock_timeout=0.3)

    assert report.failed
    first = report.steps[0]
    assert first.status == "failed"
    assert first.error is not None and "locked by rotate-tokens" in first.error
    assert site.gl.groups.list(search="contractors") == []


def test_onboarding_with_nothing_to_change_takes_no_lock(site: Site) -> None:
    args = ("onboard", "-p", str(PLAYBOOKS / "contractors.yml"), "--yes")
    assert tenantctl(*args).code == 0
    versions = lock_versions(site)
    holder = TenantLock(vault_of(site), "contractors", "rotate-tokens")

    with holder:
        again = tenantctl(*args)

    assert again.code == 0  # it did not wait for the held lock
    assert versions == 2  # the first run took and freed it once
    assert lock_versions(site) == versions + 2  # only the holder's two


def test_a_second_process_is_skipped_with_a_clear_message(site: Site) -> None:
    assert (
        tenantctl("onboard", "-p", str(PLAYBOOKS / "contractors.yml"), "--yes").code
        == 0
    )
    holder = TenantLock(vault_of(site), "contractors", "onboard")

    with holder:
        other = subprocess.run(
            [
                sys.executable,
                "-m",
                "tenantctl.cli.main",
                "rotate-tokens",
                "--force",
                "--lock-timeout",
                "1",
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=60,
            check=False,
        )

    assert other.returncode == 1
    assert "contractors is locked by onboard" in other.stderr
    assert "rotation failed for: contractors" in other.stderr
    record = site.vault_read("tenantctl/tenants/contractors/token")
    assert record is not None and record["metadata"]["version"] == 1


# -- helpers ---------------------------------------------------------------


class _Quiet:
    def step_started(self, result: Any) -> None: ...

    def change_applied(self, result: Any, change: Any) -> None: ...

    def step_finished(self, result: Any) -> None: ...


def _later(seconds: float, action: Any) -> threading.Thread:
    def wait_then_act() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    return thread


def _dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
