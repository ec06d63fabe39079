"""Group and project CI/CD variables of the GitLab emulator.

References: GitLab doc/api/group_level_variables.md,
doc/api/project_level_variables.md; app/models/concerns/ci/maskable.rb
(masked-value rules), app/models/concerns/ci/has_variable.rb (key rules).
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, json_response, request_data
from tenantctl.sandbox.gitlab_base import (
    MAINTAINER,
    GitLabBase,
    invalid,
    missing_param,
    not_found,
    truthy,
)

_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_MASKABLE_RAW = re.compile(r"^\S{8,}$")
_MASKABLE = re.compile(r"^[a-zA-Z0-9_+=/@:.~-]{8,}$")
_KEY_MESSAGE = "can contain only letters, digits and '_'."
_FLAGS = ("protected", "masked", "raw")


# -- storage ----------------------------------------------------------------


def variables_of(gl: GitLabBase, kind: str, owner_id: int) -> list[dict[str, Any]]:
    """The variable list of a group (``kind="group"``) or a project."""
    found: list[dict[str, Any]] = gl.state["variables"][kind].setdefault(
        str(owner_id), []
    )
    return found


def masked_value_ok(value: str, raw: bool) -> bool:
    """Maskable: 8+ characters, one line, no spaces; a limited alphabet unless raw."""
    return bool((_MASKABLE_RAW if raw else _MASKABLE).match(value))


def variable_errors(data: dict[str, Any], raw: bool) -> ApiError | None:
    """The first validation failure of a variable, as GitLab reports it."""
    key = str(data.get("key") or "")
    if not _KEY.match(key) or len(key) > 255:
        message = (
            _KEY_MESSAGE
            if len(key) <= 255
            else "is too long (maximum is 255 characters)"
        )
        return invalid("key", message)
    value = str(data.get("value") or "")
    if data.get("masked") and not masked_value_ok(value, raw):
        return invalid("value", "is invalid")
    return None


def set_variable(
    variables: list[dict[str, Any]], data: dict[str, Any]
) -> dict[str, Any]:
    """Validate and store a new variable; 400 on bad input or a duplicate."""
    hidden = truthy(data.get("masked_and_hidden", False))
    record = {
        "key": str(data.get("key") or ""),
        "value": str(data.get("value") or ""),
        "variable_type": str(data.get("variable_type") or "env_var"),
        "protected": truthy(data.get("protected", False)),
        "masked": hidden or truthy(data.get("masked", False)),
        "hidden": hidden,
        "raw": truthy(data.get("raw", False)),
        "environment_scope": str(data.get("environment_scope") or "*"),
        "description": data.get("description"),
    }
    error = variable_errors(record, bool(record["raw"]))
    if error is not None:
        raise error
    for other in variables:
        same_scope = other["environment_scope"] == record["environment_scope"]
        if other["key"] == record["key"] and same_scope:
            raise invalid("key", f"({record['key']}) has already been taken")
    variables.append(record)
    return record


def variable_json(record: dict[str, Any]) -> dict[str, Any]:
    """A variable as the API shows it: hidden values are never returned."""
    body = dict(record)
    if record["hidden"]:
        body["value"] = None
    return body


def find_variable(
    variables: list[dict[str, Any]], key: str, request: Request
) -> dict[str, Any]:
    scope = request_data(request).get("filter", {})
    wanted = scope.get("environment_scope") if isinstance(scope, dict) else None
    wanted = wanted or request.args.get("filter[environment_scope]")
    for record in variables:
        if record["key"] == key and wanted in (None, record["environment_scope"]):
            return record
    raise not_found("Variable")


# -- owners -----------------------------------------------------------------


def owner_variables(gl: GitLabBase, kind: str, ref: str) -> list[dict[str, Any]]:
    """The variables of a group or project the caller may administer.

    Reading and writing variables both need the Maintainer role.
    """
    if kind == "group":
        group = gl.group_or_404(ref)
        gl.require_level(group, MAINTAINER)
        return variables_of(gl, kind, group["id"])
    project = gl.project_or_404(ref)
    gl.require_project_level(project, MAINTAINER)
    return variables_of(gl, kind, project["id"])


def make_handlers(kind: str) -> dict[str, Any]:
    """The five handlers of one variable API (group or project)."""

    def list_variables(gl: GitLabBase, request: Request, owner: str) -> Response:
        variables = owner_variables(gl, kind, owner)
        return gl.paginate(request, [variable_json(v) for v in variables])

    def get_variable(
        gl: GitLabBase, request: Request, owner: str, key: str
    ) -> Response:
        variables = owner_variables(gl, kind, owner)
        return json_response(variable_json(find_variable(variables, key, request)))

    def post_variable(gl: GitLabBase, request: Request, owner: str) -> Response:
        variables = owner_variables(gl, kind, owner)
        data = request_data(request)
        for required in ("key", "value"):
            if data.get(required) is None:
                raise missing_param(required)
        return json_response(variable_json(set_variable(variables, data)), 201)

    def put_variable(
        gl: GitLabBase, request: Request, owner: str, key: str
    ) -> Response:
        variables = owner_variables(gl, kind, owner)
        record = find_variable(variables, key, request)
        data = request_data(request)
        updated = dict(record)
        for name in ("value", "variable_type", "environment_scope", "description"):
            if name in data and data[name] is not None:
                updated[name] = data[name]
        for flag in _FLAGS:
            if flag in data:
                updated[flag] = truthy(data[flag])
        if record["hidden"] and not updated["masked"]:
            raise invalid("masked", "cannot be unmasked for hidden variables")
        error = variable_errors(updated, updated["raw"])
        if error is not None:
            raise error
        record.update(updated)
        return json_response(variable_json(record))

    def delete_variable(
        gl: GitLabBase, request: Request, owner: str, key: str
    ) -> Response:
        variables = owner_variables(gl, kind, owner)
        variables.remove(find_variable(variables, key, request))
        return Response(status=204)

    return {
        "list": list_variables,
        "get": get_variable,
        "post": post_variable,
        "put": put_variable,
        "delete": delete_variable,
    }


def register(gl: GitLabBase) -> None:
    """Add the group and project variable routes to the emulator."""
    for kind in ("group", "project"):
        handlers = make_handlers(kind)
        for name, handler in handlers.items():
            handler.__name__ = f"{name}_{kind}_variable"
        base = f"/{kind}s/<owner>/variables"
        gl.add(base, "GET", handlers["list"])
        gl.add(base, "POST", handlers["post"])
        gl.add(base + "/<key>", "GET", handlers["get"])
        gl.add(base + "/<key>", "PUT", handlers["put"])
        gl.add(base + "/<key>", "DELETE", handlers["delete"])


def seed_variable(gl: GitLabBase, kind: str, owner_id: int, **fields: Any) -> None:
    """Store a variable for the seed, validated like an API call."""
    set_variable(variables_of(gl, kind, owner_id), fields)
