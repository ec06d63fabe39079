"""The whole sandbox: GitLab, Keycloak and Vault emulators on loopback.

``Sandbox`` runs the three in this process (tests, ``sandbox demo``);
``python -m tenantctl.sandbox.serve`` runs them in a background process
for ``sandbox up``, with their state kept in a folder.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from werkzeug.serving import BaseWSGIServer

from tenantctl.sandbox.core import Clock, Emulator, serve
from tenantctl.sandbox.gitlab import GitLabEmulator
from tenantctl.sandbox.keycloak import KeycloakEmulator
from tenantctl.sandbox.vault import VaultEmulator

HOST = "127.0.0.1"
REALM = "platform"
DASHBOARD_CLIENT = "dashboard"
ADMIN_CLIENT = "tenantctl"


@dataclass
class Urls:
    gitlab: str
    keycloak: str
    vault: str


class Sandbox:
    """Three emulators sharing one clock; state kept in ``state_dir`` if given."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir
        self.clock = Clock()
        self.gitlab = GitLabEmulator(clock=self.clock)
        self.keycloak = KeycloakEmulator(clock=self.clock)
        self.vault = VaultEmulator(clock=self.clock)
        self._servers: list[BaseWSGIServer] = []
        self.urls: Urls | None = None

    @property
    def emulators(self) -> list[Emulator]:
        return [self.gitlab, self.keycloak, self.vault]

    def start(self, ports: dict[str, int] | None = None) -> Urls:
        """Restore or seed each emulator, then serve it; the base URLs."""
        for emulator in self.emulators:
            if self.state_dir is not None:
                emulator.state_file = self.state_dir / f"{emulator.name}.json"
            if not emulator.restore():
                emulator.seed_platform()
                emulator.save()
        self._restore_clock()

        wanted = ports or {}
        for emulator in self.emulators:
            self._servers.append(_serve(emulator, wanted.get(emulator.name, 0)))
        gitlab, keycloak, vault = (
            f"http://{HOST}:{server.server_port}" for server in self._servers
        )
        self.urls = Urls(gitlab=gitlab, keycloak=keycloak, vault=vault)
        return self.urls

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()
        self.save_clock()

    def request_totals(self) -> Counter[str]:
        """Requests served so far, as ``"<system> <reads|writes|logins>"``.

        A token grant is a POST that changes nothing: it counts as a login.
        """
        totals: Counter[str] = Counter()
        for emulator in self.emulators:
            for key, count in emulator.counts.items():
                method, _, route = key.partition(" ")
                kind = "reads" if method in ("GET", "LIST", "HEAD") else "writes"
                if route.endswith("/openid-connect/token"):
                    kind = "logins"
                totals[f"{emulator.name} {kind}"] += count
        return totals

    def reset_counts(self) -> None:
        for emulator in self.emulators:
            emulator.counts.clear()

    def ports(self) -> dict[str, int]:
        return {
            emulator.name: server.server_port
            for emulator, server in zip(self.emulators, self._servers, strict=True)
        }

    def _clock_file(self) -> Path | None:
        return self.state_dir / "clock.json" if self.state_dir else None

    def _restore_clock(self) -> None:
        path = self._clock_file()
        if path is not None and path.exists():
            self.clock.offset = float(json.loads(path.read_text())["offset"])

    def save_clock(self) -> None:
        path = self._clock_file()
        if path is not None:
            path.write_text(json.dumps({"offset": self.clock.offset}))

    # -- what a client needs -------------------------------------------

    def site_config(self, journal: Path | None = None) -> dict[str, Any]:
        """A site config for this sandbox; its audit journal goes to
        ``journal``, so sandbox runs never mix with an operator's real one."""
        assert self.urls is not None
        config = self._site_config()
        if journal is not None:
            config["journal"] = str(journal)
        return config

    def _site_config(self) -> dict[str, Any]:
        assert self.urls is not None
        return {
            "gitlab": {"url": self.urls.gitlab},
            "keycloak": {
                "url": self.urls.keycloak,
                "realm": REALM,
                "dashboard_client_id": DASHBOARD_CLIENT,
                "admin_realm": "master",
                "admin_client_id": ADMIN_CLIENT,
            },
            "vault": {"url": self.urls.vault, "mount": "secret", "prefix": "tenantctl"},
            "pipeline": {"project": "administrators/cicd", "branch": "main"},
            "dashboard": {
                "project": "administrators/dashboard",
                "branch": "main",
                "allowlist": {
                    "file": "src/auth/groups.ts",
                    "format": "js",
                    "locator": "allowed",
                },
            },
        }

    def write_config(self, path: Path) -> Path:
        path.write_text(
            "# Site configuration of a tenantctl sandbox (written by tenantctl).\n"
            + yaml.safe_dump(
                self.site_config(path.parent / "journal.jsonl"), sort_keys=False
            )
        )
        return path

    def env(self, config_path: Path) -> dict[str, str]:
        """The environment a shell needs to point tenantctl at the sandbox."""
        assert self.urls is not None
        return {
            "TENANTCTL_CONFIG": str(config_path),
            "GITLAB_URL": self.urls.gitlab,
            "GITLAB_TOKEN": self.gitlab.admin_token,
            "KEYCLOAK_URL": self.urls.keycloak,
            "KEYCLOAK_CLIENT_SECRET": self.keycloak.admin_client_secret,
            "VAULT_ADDR": self.urls.vault,
            "VAULT_TOKEN": self.vault.root_token,
        }


def _serve(emulator: Emulator, port: int) -> BaseWSGIServer:
    """Serve on ``port`` when it is free, else on any free port."""
    try:
        return serve(emulator, HOST, port)
    except OSError:
        if port == 0:
            raise
        return serve(emulator, HOST, 0)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
