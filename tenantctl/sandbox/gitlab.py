"""The GitLab REST v4 emulator of the sandbox.

python-gitlab is pointed at the emulator's base URL and calls ``/api/v4/...``
on it exactly as on a real GitLab. The endpoints live in the ``gitlab_*``
modules next to this one; this class puts them together and adds the test
helpers and control routes (``/_sandbox/gitlab/...``).
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from tenantctl.sandbox import (
    gitlab_groups,
    gitlab_labels,
    gitlab_lint,
    gitlab_repo,
    gitlab_runners,
    gitlab_seed,
    gitlab_tokens,
    gitlab_vars,
)
from tenantctl.sandbox.core import ApiError, json_response, request_data
from tenantctl.sandbox.gitlab_base import GitLabBase

__all__ = ["GitLabEmulator"]


@dataclass(eq=False)
class GitLabEmulator(GitLabBase):
    """A stateful GitLab: groups, projects, labels, runners, tokens and more."""

    def routes(self) -> None:
        for module in (
            gitlab_groups,
            gitlab_repo,
            gitlab_lint,
            gitlab_vars,
            gitlab_runners,
            gitlab_tokens,
            gitlab_labels,
        ):
            module.register(self)
        self.add_gitlab_controls()

    def seed_platform(self) -> None:
        """Seed the platform of platform.md (once, on a fresh sandbox)."""
        with self.lock:
            gitlab_seed.seed(self)
            self.save()

    def add_user(self, username: str, name: str) -> int:
        """Create a regular user; return its id."""
        with self.lock:
            return gitlab_groups.add_user(self, username, name)

    def create_token_for_user(self, username: str, scopes: list[str]) -> str:
        """A personal access token for ``username`` with ``scopes``."""
        with self.lock:
            return gitlab_tokens.create_token_for_user(self, username, scopes)

    def touch_runner(self, runner_id: int, seconds_ago: float) -> None:
        """Pretend the runner contacted GitLab ``seconds_ago`` seconds ago."""
        with self.lock:
            gitlab_runners.touch_runner(self, runner_id, seconds_ago)

    def add_gitlab_controls(self) -> None:
        """Control routes: the rate limit and runner contact times."""

        @self.route("/_sandbox/gitlab/rate_limit", "GET", "POST")
        def rate_limit(request: Request) -> Response:
            if request.method == "POST":
                value = request_data(request).get("per_minute")
                self.rate_limit = None if value in (None, "", 0) else int(value)
                self._windows.clear()
                self.save()
            return json_response({"per_minute": self.rate_limit})

        @self.route("/_sandbox/gitlab/runners/<int:runner_id>/contacted", "POST")
        def contacted(request: Request, runner_id: int) -> Response:
            if str(runner_id) not in self.state["runners"]:
                raise ApiError(404, {"message": "404 Runner Not Found"})
            seconds = float(request_data(request).get("seconds_ago", 0))
            gitlab_runners.touch_runner(self, runner_id, seconds)
            self.save()
            return json_response({"id": runner_id})
