"""Users, groups, members and projects of the GitLab emulator.

References: GitLab doc/api/users.md, doc/api/groups.md, doc/api/members.md,
doc/api/projects.md; lib/api/groups.rb, lib/api/members.rb;
app/models/namespace.rb and lib/gitlab/path_regex.rb for path rules.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, json_response, request_data
from tenantctl.sandbox.gitlab_base import (
    ACCESS_LEVELS,
    MAINTAINER,
    OWNER,
    GitLabBase,
    bad_request,
    forbidden,
    missing_param,
    not_found,
    truthy,
)

_PATH_CHARS = re.compile(r"^[A-Za-z0-9_.\-]+$")
_PATH_MESSAGE = (
    "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', "
    "end in '.', '.git' or '.atom'."
)
_VISIBILITY = {"private": 0, "internal": 10, "public": 20}


# -- users ----------------------------------------------------------------


def add_user(
    gl: GitLabBase, username: str, name: str, *, admin: bool = False, bot: bool = False
) -> int:
    """Create a user and return its id (a test and seed helper)."""
    user_id = gl.next_id("user")
    gl.state["users"][str(user_id)] = {
        "id": user_id,
        "username": username,
        "name": name,
        "email": f"{username}@example.com",
        "state": "active",
        "is_admin": admin,
        "bot": bot,
        "created_at": gl.now(),
    }
    return user_id


def user_basic(gl: GitLabBase, user: dict[str, Any]) -> dict[str, Any]:
    """The UserBasic entity (lib/api/entities/user_basic.rb)."""
    return {
        "id": user["id"],
        "username": user["username"],
        "name": user["name"],
        "state": user["state"],
        "locked": False,
        "avatar_url": None,
        "web_url": f"{gl.web_base}/{user['username']}",
    }


def user_detail(gl: GitLabBase, user: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /user`` and admins see of a user."""
    return {
        **user_basic(gl, user),
        "created_at": user["created_at"],
        "bio": "",
        "bot": user["bot"],
        "email": user["email"],
        "public_email": None,
        "is_admin": user["is_admin"],
        "can_create_group": not user["bot"],
        "can_create_project": not user["bot"],
        "two_factor_enabled": False,
        "external": False,
    }


def find_user(gl: GitLabBase, ref: str) -> dict[str, Any]:
    """A user by id; 404 ``User Not Found`` otherwise."""
    user = gl.state["users"].get(ref) if ref.isdigit() else None
    if user is None:
        raise not_found("User")
    return gl.user(int(ref))


def get_current_user(gl: GitLabBase, request: Request) -> Response:
    """``GET /user``: the token's owner (doc/api/users.md)."""
    return json_response(user_detail(gl, gl.require_user()))


def list_users(gl: GitLabBase, request: Request) -> Response:
    """``GET /users``: ``username`` matches exactly (case-insensitively)."""
    gl.require_user()
    username = request.args.get("username")
    search = (request.args.get("search") or "").lower()
    found = []
    for user in gl.state["users"].values():
        if username is not None and user["username"].lower() != username.lower():
            continue
        if search and search not in (user["username"] + user["name"]).lower():
            continue
        show = user_detail if gl.actor.is_admin else user_basic
        found.append(show(gl, user))
    return gl.paginate(request, found)


def get_user(gl: GitLabBase, request: Request, user_id: str) -> Response:
    """``GET /users/:id``."""
    user = find_user(gl, user_id)
    show = user_detail if gl.actor.is_admin else user_basic
    return json_response(show(gl, user))


# -- groups ---------------------------------------------------------------


def group_json(gl: GitLabBase, group: dict[str, Any]) -> dict[str, Any]:
    """The Group entity (lib/api/entities/group.rb), the fields clients read."""
    return {
        "id": group["id"],
        "web_url": f"{gl.web_base}/groups/{group['full_path']}",
        "name": group["name"],
        "path": group["path"],
        "description": group["description"],
        "visibility": group["visibility"],
        "share_with_group_lock": False,
        "require_two_factor_authentication": False,
        "project_creation_level": "developer",
        "subgroup_creation_level": "maintainer",
        "lfs_enabled": True,
        "default_branch": None,
        "avatar_url": None,
        "request_access_enabled": True,
        "full_name": full_name(gl, group),
        "full_path": group["full_path"],
        "created_at": group["created_at"],
        "parent_id": group["parent_id"],
        "organization_id": 1,
        "shared_runners_setting": "enabled",
        "marked_for_deletion_on": group["marked_for_deletion_on"],
        "archived": False,
    }


def full_name(gl: GitLabBase, group: dict[str, Any]) -> str:
    names = [g["name"] for g in reversed(gl.ancestors(group))]
    return " / ".join([*names, group["name"]])


def path_errors(path: str) -> list[str]:
    """Why a group path is unacceptable (lib/gitlab/path_regex.rb)."""
    bad_end = path.endswith((".", ".git", ".atom"))
    if not _PATH_CHARS.match(path) or path.startswith("-") or bad_end:
        return [_PATH_MESSAGE]
    return []


def path_taken(gl: GitLabBase, full_path: str, exclude: int | None = None) -> bool:
    """Routes are unique case-insensitively, deleted-but-pending ones too."""
    wanted = full_path.lower()
    for kind in ("groups", "projects"):
        for thing in gl.state[kind].values():
            path = thing.get("full_path") or thing.get("path_with_namespace")
            if path.lower() == wanted and thing["id"] != exclude:
                return True
    return False


def group_errors(
    gl: GitLabBase,
    name: str,
    path: str,
    visibility: str,
    parent: dict[str, Any] | None,
    exclude: int | None = None,
) -> dict[str, list[str]]:
    """Validation errors of a group, keyed by attribute as Rails names them."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["can't be blank"]
    if path_errors(path):
        errors["path"] = path_errors(path)
    full_path = f"{parent['full_path']}/{path}" if parent else path
    if not errors.get("path") and path_taken(gl, full_path, exclude):
        errors["path"] = ["has already been taken"]
    if visibility not in _VISIBILITY:
        errors["visibility_level"] = ["is not included in the list"]
    elif parent and _VISIBILITY[visibility] > _VISIBILITY[parent["visibility"]]:
        errors["visibility_level"] = [
            f"{visibility} is not allowed since the parent group has a "
            f"{parent['visibility']} visibility."
        ]
    return errors


def ruby_hash(errors: dict[str, list[str]]) -> str:
    """Rails' ``errors.messages`` as Ruby prints it in a message string."""
    parts = []
    for key, values in errors.items():
        quoted = ", ".join(f'"{value}"' for value in values)
        parts.append(f":{key}=>[{quoted}]")
    return "{" + ", ".join(parts) + "}"


def create_group(
    gl: GitLabBase,
    name: str,
    path: str,
    *,
    parent: dict[str, Any] | None = None,
    visibility: str = "private",
    description: str = "",
) -> dict[str, Any]:
    """Store a new group (validated by the caller) and return it."""
    group_id = gl.next_id("group")
    group = {
        "id": group_id,
        "name": name,
        "path": path,
        "full_path": f"{parent['full_path']}/{path}" if parent else path,
        "description": description,
        "visibility": visibility,
        "parent_id": parent["id"] if parent else None,
        "created_at": gl.now(),
        "marked_for_deletion_on": None,
    }
    gl.state["groups"][str(group_id)] = group
    return group


def list_groups(gl: GitLabBase, request: Request) -> Response:
    """``GET /groups``: the groups the caller is a member of (all for admins).

    ``all_available`` adds every visible group; ``search`` matches name or
    path; ``top_level_only`` drops subgroups. Ordered by name.
    """
    args = request.args
    search = (args.get("search") or "").lower()
    every = gl.actor.is_admin or truthy(args.get("all_available", "false"))
    found = []
    for group in gl.state["groups"].values():
        if truthy(args.get("top_level_only", "false")) and group["parent_id"]:
            continue
        if search and search not in (group["name"] + group["path"]).lower():
            continue
        member = gl.access_level(group) > 0
        if member or (every and gl.can_read_group(group)):
            found.append(group)
    found.sort(key=lambda g: (g["name"].lower(), g["id"]))
    return gl.paginate(request, [group_json(gl, g) for g in found])


def get_group(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id`` by id or URL-encoded full path."""
    group = gl.group_or_404(group_id)
    body = group_json(gl, group)
    projects = [p for p in gl.state["projects"].values()]
    body["projects"] = [
        project_json(gl, p) for p in projects if p["namespace_id"] == group["id"]
    ]
    body["shared_projects"] = []
    return json_response(body)


def post_group(gl: GitLabBase, request: Request) -> Response:
    """``POST /groups`` (lib/api/groups.rb): 400 ``Failed to save group``."""
    gl.require_user()
    data = request_data(request)
    for required in ("name", "path"):
        if not data.get(required):
            raise missing_param(required)
    parent = None
    if data.get("parent_id") not in (None, ""):
        parent = gl.group_or_404(str(data["parent_id"]))
        gl.require_level(parent, MAINTAINER)
    name, path = str(data["name"]), str(data["path"])
    default = parent["visibility"] if parent else "private"
    visibility = str(data.get("visibility") or default)
    errors = group_errors(gl, name, path, visibility, parent)
    if errors:
        message = f"Failed to save group {ruby_hash(errors)}"
        raise ApiError(400, {"message": message})
    group = create_group(
        gl,
        name,
        path,
        parent=parent,
        visibility=visibility,
        description=str(data.get("description") or ""),
    )
    add_member(gl, group, gl.require_user()["id"], OWNER)
    return json_response(group_json(gl, group), 201)


def put_group(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``PUT /groups/:id``: Owner only; validation errors as a field map."""
    group = gl.group_or_404(group_id)
    gl.require_level(group, OWNER)
    data = request_data(request)
    parent = gl.state["groups"].get(str(group["parent_id"]))
    name = str(data.get("name", group["name"]))
    path = str(data.get("path", group["path"]))
    visibility = str(data.get("visibility", group["visibility"]))
    errors = group_errors(gl, name, path, visibility, parent, group["id"])
    if errors:
        raise ApiError(400, {"message": errors})
    old_path = group["full_path"]
    group.update(name=name, path=path, visibility=visibility)
    if "description" in data:
        group["description"] = str(data["description"] or "")
    new_path = f"{parent['full_path']}/{path}" if parent else path
    if new_path != old_path:
        move_routes(gl, old_path, new_path)
    return json_response(group_json(gl, group))


def move_routes(gl: GitLabBase, old: str, new: str) -> None:
    """Rewrite the full paths under a renamed group."""
    for group in gl.state["groups"].values():
        path = group["full_path"]
        if path == old or path.startswith(old + "/"):
            group["full_path"] = new + path[len(old) :]
    for project in gl.state["projects"].values():
        path = project["path_with_namespace"]
        if path.startswith(old + "/"):
            project["path_with_namespace"] = new + path[len(old) :]


def delete_group(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``DELETE /groups/:id``: marks for deletion; the path stays taken.

    GitLab doc/api/groups.md (delayed deletion): 202 Accepted.
    """
    group = gl.group_or_404(group_id)
    gl.require_level(group, OWNER)
    if group["marked_for_deletion_on"]:
        raise bad_request("Group has been already marked for deletion")
    group["marked_for_deletion_on"] = gl.today().isoformat()
    return json_response({"message": "202 Accepted"}, 202)


# -- members ----------------------------------------------------------------


def add_member(
    gl: GitLabBase, group: dict[str, Any], user_id: int, level: int
) -> dict[str, Any]:
    """Make a user a direct member of a group (a seed and create helper)."""
    member = {"user_id": user_id, "access_level": level, "created_at": gl.now()}
    member["expires_at"] = None
    gl.members_of(group)[str(user_id)] = member
    return member


def member_json(gl: GitLabBase, member: dict[str, Any]) -> dict[str, Any]:
    """The Member entity (lib/api/entities/member.rb)."""
    user = gl.user(member["user_id"])
    return {
        **user_basic(gl, user),
        "access_level": member["access_level"],
        "created_at": member["created_at"],
        "expires_at": member["expires_at"],
        "membership_state": "active",
        "group_saml_identity": None,
    }


def list_members(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/members``: direct members only."""
    group = gl.group_or_404(group_id)
    query = (request.args.get("query") or "").lower()
    found = []
    for member in gl.members_of(group).values():
        body = member_json(gl, member)
        if query in (body["username"] + body["name"]).lower():
            found.append(body)
    return gl.paginate(request, found)


def list_all_members(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/members/all``: direct and inherited members."""
    group = gl.group_or_404(group_id)
    return gl.paginate(request, list(inherited_members(gl, group).values()))


def inherited_members(gl: GitLabBase, group: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for each in [group, *gl.ancestors(group)]:
        for uid, member in gl.members_of(each).items():
            body = member_json(gl, member)
            if uid not in found or found[uid]["access_level"] < body["access_level"]:
                found[uid] = body
    return found


def get_member(
    gl: GitLabBase, request: Request, group_id: str, user_id: str
) -> Response:
    """``GET /groups/:id/members/:user_id``."""
    group = gl.group_or_404(group_id)
    member = gl.members_of(group).get(user_id)
    if member is None:
        raise not_found("Member")
    return json_response(member_json(gl, member))


def get_any_member(
    gl: GitLabBase, request: Request, group_id: str, user_id: str
) -> Response:
    """``GET /groups/:id/members/all/:user_id``."""
    group = gl.group_or_404(group_id)
    member = inherited_members(gl, group).get(user_id)
    if member is None:
        raise not_found("Member")
    return json_response(member)


def access_level_param(data: dict[str, Any]) -> int:
    """The ``access_level`` parameter, checked as Grape's ``values:`` does."""
    if data.get("access_level") in (None, ""):
        raise missing_param("access_level")
    try:
        level = int(data["access_level"])
    except (TypeError, ValueError):
        raise ApiError(400, {"error": "access_level is invalid"}) from None
    if level not in ACCESS_LEVELS:
        raise ApiError(400, {"error": "access_level does not have a valid value"})
    return level


def check_grant(gl: GitLabBase, group: dict[str, Any], level: int) -> None:
    """Maintainers manage members up to their own level; Owners any."""
    mine = gl.access_level(group)
    if mine < MAINTAINER or (level > mine and mine < OWNER) or level == OWNER > mine:
        raise forbidden()


def post_member(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``POST /groups/:id/members``: 409 ``Member already exists``."""
    group = gl.group_or_404(group_id)
    data = request_data(request)
    if data.get("user_id") in (None, ""):
        raise missing_param("user_id")
    level = access_level_param(data)
    check_grant(gl, group, level)
    user = find_user(gl, str(data["user_id"]))
    if str(user["id"]) in gl.members_of(group):
        raise ApiError(409, {"message": "Member already exists"})
    member = add_member(gl, group, user["id"], level)
    member["expires_at"] = data.get("expires_at") or None
    return json_response(member_json(gl, member), 201)


def put_member(
    gl: GitLabBase, request: Request, group_id: str, user_id: str
) -> Response:
    """``PUT /groups/:id/members/:user_id``."""
    group = gl.group_or_404(group_id)
    member = gl.members_of(group).get(user_id)
    if member is None:
        raise not_found("Member")
    data = request_data(request)
    level = access_level_param(data)
    check_grant(gl, group, max(level, member["access_level"]))
    member["access_level"] = level
    if "expires_at" in data:
        member["expires_at"] = data["expires_at"] or None
    return json_response(member_json(gl, member))


def delete_member(
    gl: GitLabBase, request: Request, group_id: str, user_id: str
) -> Response:
    """``DELETE /groups/:id/members/:user_id``: 204; the last Owner stays."""
    group = gl.group_or_404(group_id)
    members = gl.members_of(group)
    member = members.get(user_id)
    if member is None:
        raise not_found("Member")
    check_grant(gl, group, member["access_level"])
    owners = [m for m in members.values() if m["access_level"] == OWNER]
    if member["access_level"] == OWNER and len(owners) == 1 and not group["parent_id"]:
        raise forbidden()
    del members[user_id]
    return Response(status=204)


# -- projects ---------------------------------------------------------------


def create_project(
    gl: GitLabBase, group: dict[str, Any], name: str, path: str, description: str = ""
) -> dict[str, Any]:
    """Store a new project in a group, with an empty repository."""
    project_id = gl.next_id("project")
    project = {
        "id": project_id,
        "name": name,
        "path": path,
        "path_with_namespace": f"{group['full_path']}/{path}",
        "namespace_id": group["id"],
        "description": description,
        "visibility": group["visibility"],
        "archived": False,
        "created_at": gl.now(),
        "last_activity_at": gl.now(),
        "default_branch": "main",
        "repo": {"branches": {}, "commits": {}},
    }
    gl.state["projects"][str(project_id)] = project
    return project


def project_json(gl: GitLabBase, project: dict[str, Any]) -> dict[str, Any]:
    """The Project entity (lib/api/entities/project.rb), fields clients read."""
    group = gl.project_group(project)
    web_url = f"{gl.web_base}/{project['path_with_namespace']}"
    empty = not project["repo"]["branches"]
    return {
        "id": project["id"],
        "description": project["description"],
        "name": project["name"],
        "name_with_namespace": f"{full_name(gl, group)} / {project['name']}",
        "path": project["path"],
        "path_with_namespace": project["path_with_namespace"],
        "created_at": project["created_at"],
        "default_branch": None if empty else project["default_branch"],
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@127.0.0.1:{project['path_with_namespace']}.git",
        "http_url_to_repo": f"{web_url}.git",
        "web_url": web_url,
        "avatar_url": None,
        "star_count": 0,
        "last_activity_at": project["last_activity_at"],
        "namespace": namespace_json(gl, group),
        "visibility": project["visibility"],
        "archived": project["archived"],
        "empty_repo": empty,
    }


def namespace_json(gl: GitLabBase, group: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": group["id"],
        "name": group["name"],
        "path": group["path"],
        "kind": "group",
        "full_path": group["full_path"],
        "parent_id": group["parent_id"],
        "avatar_url": None,
        "web_url": f"{gl.web_base}/groups/{group['full_path']}",
    }


def get_project(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``GET /projects/:id`` by id or URL-encoded ``namespace/path``."""
    return json_response(project_json(gl, gl.project_or_404(project_id)))


def list_group_projects(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/projects``: ``include_subgroups``, ``archived``."""
    group = gl.group_or_404(group_id)
    ids = {group["id"]}
    if truthy(request.args.get("include_subgroups", "false")):
        ids |= {g["id"] for g in gl.descendants(group)}
    archived = request.args.get("archived")
    search = (request.args.get("search") or "").lower()
    found = []
    for project in gl.state["projects"].values():
        if project["namespace_id"] not in ids or not gl.can_read_project(project):
            continue
        if archived is not None and truthy(archived) != project["archived"]:
            continue
        if search in (project["name"] + project["path"]).lower():
            found.append(project)
    found.sort(key=lambda p: -int(p["id"]))
    return gl.paginate(request, [project_json(gl, p) for p in found])


def post_project(gl: GitLabBase, request: Request) -> Response:
    """``POST /projects`` in a group namespace (``namespace_id``)."""
    gl.require_user()
    data = request_data(request)
    name = str(data.get("name") or data.get("path") or "")
    if not name:
        message = "name, path are missing, at least one parameter must be provided"
        raise ApiError(400, {"error": message})
    path = str(data.get("path") or name.lower().replace(" ", "-"))
    group = gl.group_or_404(str(data.get("namespace_id", "")))
    gl.require_level(group, MAINTAINER)
    if path_taken(gl, f"{group['full_path']}/{path}"):
        raise ApiError(400, {"message": {"path": ["has already been taken"]}})
    project = create_project(gl, group, name, path, str(data.get("description") or ""))
    return json_response(project_json(gl, project), 201)


def set_archived(gl: GitLabBase, project_id: str, archived: bool) -> Response:
    """Archive or unarchive (doc/api/projects.md): Maintainer, 201."""
    project = gl.project_or_404(project_id)
    gl.require_project_level(project, MAINTAINER)
    project["archived"] = archived
    return json_response(project_json(gl, project), 201)


def archive(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``POST /projects/:id/archive``."""
    return set_archived(gl, project_id, True)


def unarchive(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``POST /projects/:id/unarchive``."""
    return set_archived(gl, project_id, False)


def register(gl: GitLabBase) -> None:
    """Add this module's routes to the emulator."""
    gl.add("/user", "GET", get_current_user)
    gl.add("/users", "GET", list_users)
    gl.add("/users/<user_id>", "GET", get_user)
    gl.add("/groups", "GET", list_groups)
    gl.add("/groups", "POST", post_group)
    gl.add("/groups/<group_id>", "GET", get_group)
    gl.add("/groups/<group_id>", "PUT", put_group)
    gl.add("/groups/<group_id>", "DELETE", delete_group)
    gl.add("/groups/<group_id>/members", "GET", list_members)
    gl.add("/groups/<group_id>/members", "POST", post_member)
    gl.add("/groups/<group_id>/members/all", "GET", list_all_members)
    gl.add("/groups/<group_id>/members/all/<user_id>", "GET", get_any_member)
    gl.add("/groups/<group_id>/members/<user_id>", "GET", get_member)
    gl.add("/groups/<group_id>/members/<user_id>", "PUT", put_member)
    gl.add("/groups/<group_id>/members/<user_id>", "DELETE", delete_member)
    gl.add("/groups/<group_id>/projects", "GET", list_group_projects)
    gl.add("/projects", "POST", post_project)
    gl.add("/projects/<project_id>", "GET", get_project)
    gl.add("/projects/<project_id>/archive", "POST", archive)
    gl.add("/projects/<project_id>/unarchive", "POST", unarchive)
