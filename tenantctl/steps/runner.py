"""Step 4: the tenant's group runner, isolated three ways at once.

Tags alone are not enough (platform.md, "Runners"): the runner also runs no
untagged jobs, and the strict tier's is locked and takes protected refs only.
Its authentication token is shown once, at creation, and goes straight to
Vault; a runner whose token Vault lacks gets a new one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tenantctl.errors import InputError
from tenantctl.secrets import Secret
from tenantctl.steps.base import Action, Change, Context, StepPlan

FLAGS = ("tag_list", "run_untagged", "locked", "access_level")
HEADER = "# Runner of tenant "


def wanted_flags(ctx: Context) -> dict[str, Any]:
    settings = ctx.settings
    return {
        "tag_list": [ctx.tenant],
        "run_untagged": False,
        "locked": settings.runner_locked,
        "access_level": "ref_protected"
        if settings.runner_protected
        else "not_protected",
    }


def render_runner_config(ctx: Context, runner_id: int | None) -> str:
    """The runner host's ``config.toml`` section; the token stays in Vault."""
    vault = ctx.config.vault
    secret_path = ctx.vault_path("runner")
    return "\n".join(
        [
            f"{HEADER}{ctx.tenant}, written by tenantctl.",
            "# The authentication token is kept in Vault, not here. Fill it in",
            "# when you install the runner:",
            f"#   vault kv get -mount={vault.mount} -field=token {secret_path}",
            "[[runners]]",
            f'  name = "{ctx.tenant}"',
            f'  url = "{ctx.config.gitlab.url}"',
            f"  id = {runner_id if runner_id is not None else 0}",
            '  token = "REPLACE_WITH_TOKEN_FROM_VAULT"',
            '  executor = "docker"',
            "  [runners.docker]",
            '    image = "alpine:3.20"',
            "    privileged = false",
            "    volumes = [",
            '      "/var/run/docker.sock:/var/run/docker.sock",',
            '      "/opt/shared/skills:/opt/shared/skills:ro",',
            "    ]",
            "",
        ]
    )


class RunnerStep:
    name = "runner"
    title = "group runner"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        runner = self._find(ctx)
        state: dict[str, Any] = {}

        if runner is None:
            plan.add(self._create(ctx, state))
        else:
            state["id"] = int(runner["id"])
            self._plan_flags(ctx, runner, plan)
            self._plan_token(ctx, runner, plan)

        self._plan_config_file(ctx, state, plan)
        return plan

    def _find(self, ctx: Context) -> dict[str, Any] | None:
        if ctx.group_id is None:
            return None
        runners = ctx.gitlab.group_runners(ctx.group_id)
        tagged = [r for r in runners if ctx.tenant in (r.get("tag_list") or [])]
        return tagged[0] if tagged else None

    def _create(self, ctx: Context, state: dict[str, Any]) -> Change:
        flags = wanted_flags(ctx)

        def create() -> None:
            assert ctx.group_id is not None
            fields = {
                "runner_type": "group_type",
                "group_id": ctx.group_id,
                "description": ctx.playbook.runner.description
                or f"{ctx.tenant} tenant runner",
                **flags,
            }
            data, token = ctx.gitlab.create_runner(fields)
            state["id"] = int(data["id"])
            self._store_token(ctx, state["id"], token)

        return Change(
            "create", "runner", f"{ctx.tenant} (group runner)", new=flags, run=create
        )

    def _plan_flags(self, ctx: Context, runner: dict[str, Any], plan: StepPlan) -> None:
        wanted = wanted_flags(ctx)
        old = {k: runner.get(k) for k in FLAGS if runner.get(k) != wanted[k]}
        if not old:
            return
        new = {k: wanted[k] for k in old}
        runner_id = int(runner["id"])
        plan.add(
            Change(
                "update",
                "runner",
                f"runner {runner_id}",
                old=old,
                new=new,
                run=lambda: ctx.gitlab.update_runner(runner_id, new),
            )
        )

    def _plan_token(self, ctx: Context, runner: dict[str, Any], plan: StepPlan) -> None:
        """A runner whose token Vault lacks gets a new one, unless a runner
        host already uses it: resetting would cut that host off."""
        runner_id = int(runner["id"])
        record = ctx.vault.read(ctx.vault_path("runner"), secret_keys=("token",))
        if record is not None and record.data.get("runner_id") == runner_id:
            return
        if runner.get("contacted_at"):
            plan.warnings.append(
                f"runner {runner_id} is in use (last contact "
                f"{runner['contacted_at']}) but its token is not in Vault; "
                "tenantctl leaves it alone. To manage it, reset its token in "
                "GitLab, store it at "
                f"{ctx.config.vault.mount}/{ctx.vault_path('runner')} "
                "(keys runner_id, token) and re-register the host"
            )
            return

        def reset() -> None:
            token = ctx.gitlab.reset_runner_token(runner_id)
            self._store_token(ctx, runner_id, token)

        plan.add(
            Change(
                "update",
                "runner token",
                f"runner {runner_id}",
                new=Secret("runner-token"),
                run=reset,
            )
        )

    def _store_token(self, ctx: Context, runner_id: int, token: Secret) -> None:
        ctx.vault.write(
            ctx.vault_path("runner"),
            {"runner_id": runner_id, "token": token, "tenant": ctx.tenant},
        )

    def check(self, ctx: Context) -> None:
        """Refuse to overwrite a file tenantctl did not write."""
        path = self._config_path(ctx)
        if path is None or not path.exists():
            return
        if path.is_dir():
            raise InputError(f"runner config {path} is a folder, not a file")
        if not path.read_text().startswith(HEADER):
            raise InputError(
                f"runner config {path} exists and was not written by tenantctl",
                hint="name a new file: tenantctl writes one [[runners]] section "
                "to merge into the host's config.toml, not the whole file",
            )

    def _config_path(self, ctx: Context) -> Path | None:
        name = ctx.runner_config_path or ctx.playbook.runner.config_file
        return Path(name) if name else None

    def _plan_config_file(
        self, ctx: Context, state: dict[str, Any], plan: StepPlan
    ) -> None:
        path = self._config_path(ctx)
        if path is None:
            return
        current = path.read_text() if path.exists() else None
        if current == render_runner_config(ctx, state.get("id")):
            return

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_runner_config(ctx, state.get("id")))

        action: Action = "create" if current is None else "update"
        plan.add(Change(action, "runner config", str(path), run=write))
