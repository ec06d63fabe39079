"""Editing files of a GitLab project in one commit, safe against races.

Each action carries the last commit id of its file, so GitLab refuses the
commit when someone else changed the file in between (doc/api/commits.md);
the edit is then worked out again on the new state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tenantctl.adapters.gitlab import GitLab
from tenantctl.errors import RemoteError

log = logging.getLogger(__name__)

ATTEMPTS = 3
Actions = list[dict[str, Any]]


def file_action(
    action: str, path: str, content: str, last_commit_id: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"action": action, "file_path": path, "content": content}
    if last_commit_id is not None:
        data["last_commit_id"] = last_commit_id
    return data


def _is_race(exc: RemoteError) -> bool:
    return exc.status == 400 and "changed since" in exc.message


def commit_edit(
    gitlab: GitLab,
    project: str,
    branch: str,
    message: str,
    build: Callable[[], Actions],
    check: Callable[[Actions], None] | None = None,
) -> None:
    """Commit what ``build`` returns (after ``check``), redoing it on a race."""
    for attempt in range(1, ATTEMPTS + 1):
        actions = build()
        if not actions:
            return
        if check is not None:
            check(actions)
        try:
            gitlab.commit(project, branch, message, actions)
            return
        except RemoteError as exc:
            if not _is_race(exc):
                raise
            log.warning(
                "%s@%s changed while we edited it; redoing the edit (%d/%d)",
                project,
                branch,
                attempt,
                ATTEMPTS,
            )
    raise RemoteError(
        "GitLab",
        f"{project}@{branch} kept changing while we edited it",
        hint="run again when the branch is quiet",
    )
