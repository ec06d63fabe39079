"""Runners of the GitLab emulator (the ``POST /user/runners`` workflow).

References: GitLab doc/api/users.md (create a runner linked to a user),
doc/api/runners.md; lib/api/ci/runners.rb; app/models/ci/runner.rb for
the online/offline/stale status.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, json_response, request_data
from tenantctl.sandbox.gitlab_base import (
    MAINTAINER,
    OWNER,
    GitLabBase,
    digest,
    forbidden,
    iso,
    missing_param,
    new_secret,
    not_found,
    truthy,
)

_TYPES = ("instance_type", "group_type", "project_type")
_ACCESS = ("not_protected", "ref_protected")
_ONLINE_SECONDS = 2 * 3600
_STALE_SECONDS = 7 * 86400


def tags_param(value: Any) -> list[str]:
    """``tag_list`` as an array or a comma-separated string."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(tag).strip() for tag in items if str(tag).strip()]


def create_runner(
    gl: GitLabBase, settings: dict[str, Any], creator_id: int
) -> tuple[dict[str, Any], str]:
    """Store a runner and return it with its authentication token."""
    runner_id = gl.next_id("runner")
    token = new_secret("glrt-")
    runner = {
        "id": runner_id,
        "description": str(settings.get("description") or ""),
        "runner_type": settings["runner_type"],
        "tag_list": tags_param(settings.get("tag_list")),
        "run_untagged": truthy(settings.get("run_untagged", True)),
        "locked": truthy(settings.get("locked", False)),
        "access_level": str(settings.get("access_level") or "not_protected"),
        "paused": truthy(settings.get("paused", False)),
        "maximum_timeout": settings.get("maximum_timeout"),
        "maintenance_note": settings.get("maintenance_note"),
        "group_ids": list(settings.get("group_ids", [])),
        "project_ids": list(settings.get("project_ids", [])),
        "created_at": gl.now(),
        "contacted_at": None,
        "creator_id": creator_id,
        "digest": digest(token),
    }
    gl.state["runners"][str(runner_id)] = runner
    return runner, token


def status(gl: GitLabBase, runner: dict[str, Any]) -> str:
    """online (contact in 2 h), offline, stale (7 days) or never_contacted."""
    contacted = runner["contacted_at"]
    if contacted is None:
        return "never_contacted"
    age = gl.clock.now() - float(contacted)
    if age < _ONLINE_SECONDS:
        return "online"
    return "stale" if age > _STALE_SECONDS else "offline"


def runner_json(gl: GitLabBase, runner: dict[str, Any]) -> dict[str, Any]:
    """The Runner entity (lib/api/entities/ci/runner.rb)."""
    state = status(gl, runner)
    return {
        "id": runner["id"],
        "description": runner["description"],
        "ip_address": None,
        "active": not runner["paused"],
        "paused": runner["paused"],
        "is_shared": runner["runner_type"] == "instance_type",
        "runner_type": runner["runner_type"],
        "name": "gitlab-runner" if runner["contacted_at"] else None,
        "online": state == "online",
        "status": state,
        "created_at": runner["created_at"],
    }


def runner_detail(gl: GitLabBase, runner: dict[str, Any]) -> dict[str, Any]:
    """The RunnerDetails entity: settings, groups and projects."""
    contacted = runner["contacted_at"]
    groups = [gl.state["groups"][str(g)] for g in runner["group_ids"]]
    return {
        **runner_json(gl, runner),
        "tag_list": runner["tag_list"],
        "run_untagged": runner["run_untagged"],
        "locked": runner["locked"],
        "maximum_timeout": runner["maximum_timeout"],
        "access_level": runner["access_level"],
        "maintenance_note": runner["maintenance_note"],
        "contacted_at": None if contacted is None else iso(float(contacted)),
        "version": None,
        "revision": None,
        "platform": None,
        "architecture": None,
        "groups": [
            {
                "id": g["id"],
                "name": g["name"],
                "web_url": f"{gl.web_base}/groups/{g['full_path']}",
            }
            for g in groups
        ],
        "projects": [],
    }


def runner_level(gl: GitLabBase, runner: dict[str, Any]) -> int:
    """The caller's best access to the groups a runner belongs to."""
    if gl.actor.is_admin:
        return OWNER
    groups = [gl.state["groups"][str(g)] for g in runner["group_ids"]]
    return max([gl.access_level(g) for g in groups] or [0])


def runner_or_404(gl: GitLabBase, runner_id: str, write: bool) -> dict[str, Any]:
    """A runner the caller may read (Maintainer) or change (Owner).

    lib/api/ci/helpers/runner.rb: 404 when missing, 403 ``No access granted``.
    """
    runner = gl.state["runners"].get(runner_id)
    if runner is None:
        raise not_found("Runner")
    shared = runner["runner_type"] == "instance_type"
    if write and runner_level(gl, runner) < OWNER:
        raise forbidden("No access granted")
    if not write and not shared and runner_level(gl, runner) < MAINTAINER:
        raise forbidden("No access granted")
    found: dict[str, Any] = runner
    return found


def post_user_runner(gl: GitLabBase, request: Request) -> Response:
    """``POST /user/runners``: Owner of the group; the token is shown once."""
    user = gl.require_user()
    data = request_data(request)
    kind = data.get("runner_type")
    if not kind:
        raise missing_param("runner_type")
    if kind not in _TYPES:
        raise ApiError(400, {"error": "runner_type does not have a valid value"})
    if data.get("access_level", "not_protected") not in _ACCESS:
        raise ApiError(400, {"error": "access_level does not have a valid value"})
    settings = dict(data)
    if kind == "group_type":
        settings["group_ids"] = [runner_group(gl, data)["id"]]
    elif kind == "instance_type" and not gl.actor.is_admin:
        raise forbidden()
    elif kind == "project_type":
        raise forbidden()  # TODO: project runners are not emulated.
    runner, token = create_runner(gl, settings, user["id"])
    body = {"id": runner["id"], "token": token, "token_expires_at": None}
    return json_response(body, 201)


def runner_group(gl: GitLabBase, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("group_id") in (None, ""):
        raise missing_param("group_id")
    group = gl.group_or_404(str(data["group_id"]))
    if gl.access_level(group) < OWNER:
        raise forbidden()
    return group


def legacy_register(gl: GitLabBase, request: Request) -> Response:
    """``POST /runners`` with a registration token: gone (doc/api/runners.md)."""
    return json_response({"message": "410 Gone"}, 410)


def get_runner(gl: GitLabBase, request: Request, runner_id: str) -> Response:
    """``GET /runners/:id``."""
    gl.require_user()
    return json_response(runner_detail(gl, runner_or_404(gl, runner_id, False)))


def put_runner(gl: GitLabBase, request: Request, runner_id: str) -> Response:
    """``PUT /runners/:id``: change settings (``active`` is the old ``paused``)."""
    gl.require_user()
    runner = runner_or_404(gl, runner_id, True)
    data = request_data(request)
    if data.get("access_level", runner["access_level"]) not in _ACCESS:
        raise ApiError(400, {"error": "access_level does not have a valid value"})
    for name in ("description", "access_level", "maximum_timeout", "maintenance_note"):
        if name in data:
            runner[name] = data[name]
    for flag in ("run_untagged", "locked", "paused"):
        if flag in data:
            runner[flag] = truthy(data[flag])
    if "active" in data:
        runner["paused"] = not truthy(data["active"])
    if "tag_list" in data:
        runner["tag_list"] = tags_param(data["tag_list"])
    return json_response(runner_detail(gl, runner))


def delete_runner(gl: GitLabBase, request: Request, runner_id: str) -> Response:
    """``DELETE /runners/:id``: 204."""
    gl.require_user()
    runner_or_404(gl, runner_id, True)
    del gl.state["runners"][runner_id]
    return Response(status=204)


def reset_token(gl: GitLabBase, request: Request, runner_id: str) -> Response:
    """``POST /runners/:id/reset_authentication_token``: the old one dies."""
    gl.require_user()
    runner = runner_or_404(gl, runner_id, True)
    token = new_secret("glrt-")
    runner["digest"] = digest(token)
    return json_response({"token": token, "token_expires_at": None}, 201)


def filtered(
    gl: GitLabBase, request: Request, runners: list[dict[str, Any]]
) -> Response:
    """Apply ``type``, ``tag_list``, ``paused`` and ``status`` filters; page."""
    args = request.args
    tags = set(tags_param(args.get("tag_list")))
    found = []
    for runner in sorted(runners, key=lambda r: int(r["id"])):
        if args.get("type") and runner["runner_type"] != args["type"]:
            continue
        if not tags <= set(runner["tag_list"]):
            continue
        if "paused" in args and truthy(args["paused"]) != runner["paused"]:
            continue
        if args.get("status") and status(gl, runner) != args["status"]:
            continue
        found.append(runner_json(gl, runner))
    return gl.paginate(request, found)


def group_runners(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/runners``: the group's, its ancestors' and instance runners."""
    group = gl.group_or_404(group_id)
    gl.require_level(group, MAINTAINER)
    ids = {group["id"]} | {g["id"] for g in gl.ancestors(group)}
    runners = [
        r
        for r in gl.state["runners"].values()
        if r["runner_type"] == "instance_type" or ids & set(r["group_ids"])
    ]
    return filtered(gl, request, runners)


def all_runners(gl: GitLabBase, request: Request) -> Response:
    """``GET /runners/all``: administrators only."""
    gl.require_user()
    if not gl.actor.is_admin:
        raise forbidden()
    return filtered(gl, request, list(gl.state["runners"].values()))


def own_runners(gl: GitLabBase, request: Request) -> Response:
    """``GET /runners``: the runners of groups the caller owns."""
    gl.require_user()
    runners = [
        r
        for r in gl.state["runners"].values()
        if r["runner_type"] != "instance_type" and runner_level(gl, r) >= OWNER
    ]
    return filtered(gl, request, runners)


def touch_runner(gl: GitLabBase, runner_id: int, seconds_ago: float) -> None:
    """Record that a runner last contacted GitLab ``seconds_ago`` ago."""
    runner = gl.state["runners"][str(runner_id)]
    runner["contacted_at"] = gl.clock.now() - seconds_ago


def register(gl: GitLabBase) -> None:
    """Add this module's routes to the emulator."""
    gl.add("/user/runners", "POST", post_user_runner)
    gl.add("/runners", "POST", legacy_register)
    gl.add("/runners", "GET", own_runners)
    gl.add("/runners/all", "GET", all_runners)
    gl.add("/runners/<runner_id>", "GET", get_runner)
    gl.add("/runners/<runner_id>", "PUT", put_runner)
    gl.add("/runners/<runner_id>", "DELETE", delete_runner)
    gl.add("/runners/<runner_id>/reset_authentication_token", "POST", reset_token)
    gl.add("/groups/<group_id>/runners", "GET", group_runners)
