"""Step 1: the tenant's GitLab group and its members."""

from __future__ import annotations

from typing import Any

from tenantctl.errors import InputError, TenantctlError
from tenantctl.steps.base import Change, Context, StepPlan

LEVEL_NAMES = {
    10: "guest",
    20: "reporter",
    30: "developer",
    40: "maintainer",
    50: "owner",
}


class GroupStep:
    name = "group"
    title = "GitLab group and members"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        book = ctx.playbook
        group = ctx.gitlab.find_group(book.full_path)

        if group is None:
            plan.add(self._create(ctx))
        elif group.get("marked_for_deletion_on"):
            raise TenantctlError(
                f"GitLab group {book.full_path} is scheduled for deletion on "
                f"{group['marked_for_deletion_on']}: a tenant built in it would "
                "go with it",
                hint="restore the group in GitLab (Settings > General > "
                "Advanced > Restore group), or wait until it is gone",
            )
        else:
            ctx.group_id = int(group["id"])
            self._plan_update(ctx, group, plan)

        self._plan_members(ctx, group, plan)
        return plan

    def _wanted(self, ctx: Context) -> dict[str, Any]:
        book = ctx.playbook
        return {
            "name": book.display_name,
            "description": book.description,
            "visibility": book.visibility,
        }

    def _create(self, ctx: Context) -> Change:
        book = ctx.playbook
        fields = {**self._wanted(ctx), "path": book.tenant}

        def create() -> None:
            if book.parent:
                parent = ctx.gitlab.find_group(book.parent)
                if parent is None:
                    raise InputError(
                        f"parent group {book.parent!r} does not exist in GitLab",
                        hint="create it first, or fix 'parent' in the playbook",
                    )
                fields["parent_id"] = parent["id"]
            created = ctx.gitlab.create_group(fields)
            ctx.group_id = int(created["id"])

        return Change("create", "group", book.full_path, new=fields, run=create)

    def _plan_update(self, ctx: Context, group: dict[str, Any], plan: StepPlan) -> None:
        wanted = self._wanted(ctx)
        old = {k: group.get(k) for k in wanted if group.get(k) != wanted[k]}
        if not old:
            return
        new = {k: wanted[k] for k in old}
        group_id = int(group["id"])
        plan.add(
            Change(
                "update",
                "group",
                ctx.playbook.full_path,
                old=old,
                new=new,
                run=lambda: ctx.gitlab.update_group(group_id, new),
            )
        )

    def _plan_members(
        self, ctx: Context, group: dict[str, Any] | None, plan: StepPlan
    ) -> None:
        current = {}
        if group is not None:
            members = ctx.gitlab.list_members(int(group["id"]))
            current = {m["username"]: int(m["access_level"]) for m in members}

        for member in ctx.playbook.members:
            user = ctx.gitlab.find_user(member.username)
            if user is None:
                plan.warnings.append(
                    f"GitLab user {member.username!r} does not exist: not added"
                )
                continue
            have = current.get(member.username)
            if have == member.access_level:
                continue
            plan.add(
                self._member_change(
                    ctx, int(user["id"]), member.username, have, member.access_level
                )
            )

    def _member_change(
        self, ctx: Context, user_id: int, username: str, have: int | None, want: int
    ) -> Change:
        def apply() -> None:
            assert ctx.group_id is not None
            if have is None:
                ctx.gitlab.add_member(ctx.group_id, user_id, want)
            else:
                ctx.gitlab.update_member(ctx.group_id, user_id, want)

        return Change(
            "create" if have is None else "update",
            "member",
            username,
            old=LEVEL_NAMES.get(have) if have is not None else None,
            new=LEVEL_NAMES[want],
            run=apply,
        )
