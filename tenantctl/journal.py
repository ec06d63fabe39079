"""The audit journal: every change tenantctl applied, one JSON line each.

Operators and auditors read it to learn who changed what, when, and how it
ended. It records names and actions only, never a value, so no secret can
reach it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import threading
from pathlib import Path
from typing import Any

from tenantctl.engine import Reporter, StepResult
from tenantctl.secrets import scrub
from tenantctl.steps.base import Change

_lock = threading.Lock()


def default_path() -> Path:
    """``$XDG_STATE_HOME/tenantctl/journal.jsonl`` (``~/.local/state``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "tenantctl" / "journal.jsonl"


class Journal:
    """Appends entries to a JSON-lines file, safe across threads."""

    def __init__(self, path: Path, command: str) -> None:
        self.path = path
        self.command = command
        self.operator = _operator()

    def record(self, tenant: str, step: str, **fields: Any) -> None:
        entry = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "operator": self.operator,
            "command": self.command,
            "tenant": tenant,
            "step": step,
            **fields,
        }
        line = scrub(json.dumps(entry, default=str))
        with _lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as journal:
                journal.write(line + "\n")


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class JournalingReporter:
    """A reporter that journals each applied change, then passes it on."""

    def __init__(self, inner: Reporter, journal: Journal, tenant: str) -> None:
        self.inner = inner
        self.journal = journal
        self.tenant = tenant

    def step_started(self, result: StepResult) -> None:
        self.inner.step_started(result)

    def change_applied(self, result: StepResult, change: Change) -> None:
        self.journal.record(
            self.tenant,
            result.name,
            action=change.action,
            kind=change.kind,
            target=change.target,
            result="done",
        )
        self.inner.change_applied(result, change)

    def step_finished(self, result: StepResult) -> None:
        if result.status == "failed":
            self.journal.record(
                self.tenant, result.name, result="failed", error=result.error
            )
        self.inner.step_finished(result)
