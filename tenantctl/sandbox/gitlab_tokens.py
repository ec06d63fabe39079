"""Personal and group access tokens of the GitLab emulator.

References: GitLab doc/api/group_access_tokens.md,
doc/api/personal_access_tokens.md; lib/api/resource_access_tokens.rb;
app/services/resource_access_tokens/create_service.rb and
app/services/personal_access_tokens/rotate_service.rb.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, json_response, request_data
from tenantctl.sandbox.gitlab_base import (
    ACCESS_LEVELS,
    OWNER,
    GitLabBase,
    bad_request,
    digest,
    forbidden,
    missing_param,
    new_secret,
)
from tenantctl.sandbox.gitlab_groups import add_member, add_user

SCOPES = (
    "api",
    "read_api",
    "read_user",
    "create_runner",
    "manage_runner",
    "k8s_proxy",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "ai_features",
    "self_rotate",
)
MAX_LIFETIME_DAYS = 365
ROTATION_DAYS = 7


# -- storage ----------------------------------------------------------------


def issue_token(
    gl: GitLabBase,
    user_id: int,
    name: str,
    scopes: list[str],
    expires_at: str | None,
    **extra: Any,
) -> tuple[dict[str, Any], str]:
    """Store a new token for a user; return it and its secret value."""
    token_id = gl.next_id("token")
    value = new_secret("glpat-")
    token = {
        "id": token_id,
        "name": name,
        "digest": digest(value),
        "user_id": user_id,
        "scopes": list(scopes),
        "created_at": gl.now(),
        "expires_at": expires_at,
        "revoked": False,
        "last_used_at": None,
        "description": extra.get("description"),
        "access_level": extra.get("access_level"),
        "group_id": extra.get("group_id"),
        "previous_id": extra.get("previous_id"),
    }
    gl.state["tokens"][str(token_id)] = token
    return token, value


def create_token_for_user(
    gl: GitLabBase, username: str, scopes: list[str], days: int = MAX_LIFETIME_DAYS
) -> str:
    """A personal access token for a user, by username (a test helper)."""
    for user in gl.state["users"].values():
        if user["username"] == username:
            expiry = (gl.today() + timedelta(days=days)).isoformat()
            _, value = issue_token(gl, user["id"], f"{username}-token", scopes, expiry)
            return value
    raise KeyError(username)


def token_json(gl: GitLabBase, token: dict[str, Any]) -> dict[str, Any]:
    """The PersonalAccessToken entity (and ResourceAccessToken's fields)."""
    body = {
        "id": token["id"],
        "name": token["name"],
        "revoked": token["revoked"],
        "created_at": token["created_at"],
        "description": token["description"],
        "scopes": token["scopes"],
        "user_id": token["user_id"],
        "last_used_at": token["last_used_at"],
        "active": gl.token_active(token),
        "expires_at": token["expires_at"],
    }
    if token["group_id"] is not None:
        body["access_level"] = token["access_level"]
        body["resource_type"] = "group"
        body["resource_id"] = token["group_id"]
    return body


def with_value(gl: GitLabBase, token: dict[str, Any], value: str) -> dict[str, Any]:
    return {**token_json(gl, token), "token": value}


# -- personal access tokens -----------------------------------------------


def token_self(gl: GitLabBase, request: Request) -> Response:
    """``GET /personal_access_tokens/self``: a token describes itself."""
    gl.require_user()
    assert gl.actor.token is not None
    return json_response(token_json(gl, gl.actor.token))


# -- group access tokens ------------------------------------------------------


def owner_group(gl: GitLabBase, group_id: str) -> dict[str, Any]:
    """A group whose tokens the caller manages (Owner, not a bot)."""
    group = gl.group_or_404(group_id)
    gl.require_level(group, OWNER)
    return group


def group_token(gl: GitLabBase, group: dict[str, Any], token_id: str) -> dict[str, Any]:
    """One of the group's tokens; 404 in GitLab's words otherwise."""
    token = gl.state["tokens"].get(token_id)
    if token is None or token["group_id"] != group["id"]:
        message = (
            f"404 Could not find group access token with token_id: {token_id} Not Found"
        )
        raise ApiError(404, {"message": message})
    found: dict[str, Any] = token
    return found


def list_group_tokens(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/access_tokens`` (``state=active|inactive``)."""
    group = owner_group(gl, group_id)
    wanted = request.args.get("state")
    found = []
    for token in gl.state["tokens"].values():
        if token["group_id"] != group["id"]:
            continue
        state = "active" if gl.token_active(token) else "inactive"
        if wanted in (None, state):
            found.append(token_json(gl, token))
    return gl.paginate(request, found)


def get_group_token(
    gl: GitLabBase, request: Request, group_id: str, token_id: str
) -> Response:
    """``GET /groups/:id/access_tokens/:token_id``."""
    group = owner_group(gl, group_id)
    return json_response(token_json(gl, group_token(gl, group, token_id)))


def expiry_param(gl: GitLabBase, raw: Any, default_days: int) -> str:
    """``expires_at`` checked: not in the past, at most 365 days ahead."""
    today = gl.today()
    if raw in (None, ""):
        return (today + timedelta(days=default_days)).isoformat()
    try:
        wanted = date.fromisoformat(str(raw))
    except ValueError:
        raise ApiError(400, {"error": "expires_at is invalid"}) from None
    latest = today + timedelta(days=MAX_LIFETIME_DAYS)
    if wanted > latest:
        raise bad_request(f"Expiration date must be on or before {latest.isoformat()}")
    if wanted <= today:
        raise bad_request("Expiration date must be in the future")
    return wanted.isoformat()


def scopes_param(data: dict[str, Any]) -> list[str]:
    scopes = data.get("scopes")
    if isinstance(scopes, str):
        scopes = [scopes]
    if not scopes:
        raise missing_param("scopes")
    if any(scope not in SCOPES for scope in scopes):
        raise ApiError(400, {"error": "scopes does not have a valid value"})
    return [str(scope) for scope in scopes]


def post_group_token(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``POST /groups/:id/access_tokens``: a bot user and its token.

    Only a human Owner may do it; otherwise 400 with the service's message.
    Without ``expires_at`` the maximum lifetime (365 days) applies.
    """
    group = gl.group_or_404(group_id)
    user = gl.require_user()
    if user["bot"] or gl.access_level(group) < OWNER:
        raise bad_request("User does not have permission to create group access token")
    data = request_data(request)
    if not data.get("name"):
        raise missing_param("name")
    scopes = scopes_param(data)
    level = int(data.get("access_level") or 40)
    if level not in ACCESS_LEVELS:
        raise ApiError(400, {"error": "access_level does not have a valid value"})
    expires = expiry_param(gl, data.get("expires_at"), MAX_LIFETIME_DAYS)
    bot_id = add_user(
        gl,
        f"group_{group['id']}_bot_{secrets.token_hex(16)}",
        str(data["name"]),
        bot=True,
    )
    add_member(gl, group, bot_id, level)
    token, value = issue_token(
        gl,
        bot_id,
        str(data["name"]),
        scopes,
        expires,
        description=data.get("description"),
        access_level=level,
        group_id=group["id"],
    )
    return json_response(with_value(gl, token, value), 201)


def rotate_group_token(
    gl: GitLabBase, request: Request, group_id: str, token_id: str
) -> Response:
    """``POST /groups/:id/access_tokens/:token_id/rotate``.

    Revokes the old token at once; the new one has a new id, the same bot
    and settings, and lives one week unless ``expires_at`` is given.
    """
    group = gl.group_or_404(group_id)
    user = gl.require_user()
    if user["bot"] or gl.access_level(group) < OWNER:
        raise forbidden()
    old = group_token(gl, group, token_id)
    if not gl.token_active(old):
        raise bad_request("Token already revoked")
    expires = expiry_param(gl, request_data(request).get("expires_at"), ROTATION_DAYS)
    old["revoked"] = True
    token, value = issue_token(
        gl,
        old["user_id"],
        old["name"],
        old["scopes"],
        expires,
        description=old["description"],
        access_level=old["access_level"],
        group_id=group["id"],
        previous_id=old["id"],
    )
    return json_response(with_value(gl, token, value), 200)


def revoke_group_token(
    gl: GitLabBase, request: Request, group_id: str, token_id: str
) -> Response:
    """``DELETE /groups/:id/access_tokens/:token_id``: revoke; 204."""
    group = owner_group(gl, group_id)
    group_token(gl, group, token_id)["revoked"] = True
    return Response(status=204)


def seed_group_token(
    gl: GitLabBase,
    group: dict[str, Any],
    name: str,
    scopes: list[str],
    level: int,
    days: int,
) -> str:
    """A group access token and its bot, as the API would make them."""
    bot_id = add_user(
        gl, f"group_{group['id']}_bot_{secrets.token_hex(16)}", name, bot=True
    )
    add_member(gl, group, bot_id, level)
    expires = (gl.today() + timedelta(days=days)).isoformat()
    _, value = issue_token(
        gl, bot_id, name, scopes, expires, access_level=level, group_id=group["id"]
    )
    return value


def register(gl: GitLabBase) -> None:
    """Add this module's routes to the emulator."""
    base = "/groups/<group_id>/access_tokens"
    gl.add("/personal_access_tokens/self", "GET", token_self)
    gl.add(base, "GET", list_group_tokens)
    gl.add(base, "POST", post_group_token)
    gl.add(base + "/<token_id>", "GET", get_group_token)
    gl.add(base + "/<token_id>", "DELETE", revoke_group_token)
    gl.add(base + "/<token_id>/rotate", "POST", rotate_group_token)
