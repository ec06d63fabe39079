"""Group labels, and the issues and merge requests that carry them.

References: GitLab doc/api/group_labels.md, doc/api/issues.md,
doc/api/merge_requests.md; lib/api/helpers/label_helpers.rb (inherited
labels: readable, but 404 on update and delete through a subgroup);
app/models/label.rb (title and color rules); app/finders/labels_finder.rb.

Issues and merge requests keep label *ids*, so renaming a label keeps it on
them and deleting it removes it everywhere.
"""

from __future__ import annotations

import html
import re
from typing import Any

import webcolors
from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, json_response, request_data
from tenantctl.sandbox.gitlab_base import (
    DEVELOPER,
    REPORTER,
    GitLabBase,
    invalid,
    missing_param,
    not_found,
    truthy,
)
from tenantctl.sandbox.gitlab_groups import user_basic

DEFAULT_COLOR = "#6699cc"
_HEX = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")


# -- label rules ----------------------------------------------------------------


def normalise_color(raw: Any) -> str:
    """Hex as sent; a CSS color name as upper-case hex; else 400.

    lib/gitlab/color.rb (``Gitlab::Color.of``): the value is stripped, a
    name is looked up case-insensitively in the CSS named colors and stored
    as upper-case ``#RRGGBB``; ``#RGB`` and ``#RRGGBB`` are kept as sent.
    The names come from webcolors' CSS3 list (147 names).
    """
    color = str(raw or "").strip()
    if _HEX.match(color):
        return color
    try:
        return str(webcolors.name_to_hex(color.lower(), spec="css3")).upper()
    except ValueError:
        raise invalid("color", "must be a valid color code") from None


def check_title(raw: Any) -> str:
    """A label title trimmed; no commas, 1-255 characters."""
    title = str(raw or "").strip()
    if not title:
        raise invalid("title", "can't be blank")
    if "," in title:
        raise invalid("title", "is invalid")
    if len(title) > 255:
        raise invalid("title", "is too long (maximum is 255 characters)")
    return title


def text_color(color: str) -> str:
    """Dark text on light backgrounds, white on dark ones."""
    hexa = color.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    red, green, blue = (int(hexa[i : i + 2], 16) for i in (0, 2, 4))
    light = (red * 299 + green * 587 + blue * 114) / 1000 > 125
    return "#1F1E24" if light else "#FFFFFF"


def create_label(
    gl: GitLabBase,
    name: str,
    color: str,
    description: str | None = None,
    *,
    group_id: int | None = None,
    project_id: int | None = None,
) -> dict[str, Any]:
    """Store a label of a group or a project (validated by the caller)."""
    label_id = gl.next_id("label")
    label = {
        "id": label_id,
        "name": name,
        "color": color,
        "description": description,
        "group_id": group_id,
        "project_id": project_id,
        "created_at": gl.now(),
    }
    gl.state["labels"][str(label_id)] = label
    return label


def group_labels(gl: GitLabBase, group_ids: set[int]) -> list[dict[str, Any]]:
    return [
        label for label in gl.state["labels"].values() if label["group_id"] in group_ids
    ]


def lineage(gl: GitLabBase, group: dict[str, Any]) -> set[int]:
    """The group's id and its ancestors' ids."""
    return {group["id"], *(g["id"] for g in gl.ancestors(group))}


def subtree(gl: GitLabBase, group: dict[str, Any]) -> set[int]:
    return {group["id"], *(g["id"] for g in gl.descendants(group))}


def label_json(
    gl: GitLabBase,
    label: dict[str, Any],
    counts_in: set[int] | None = None,
) -> dict[str, Any]:
    """The GroupLabel entity; usage counts only ``with_counts``."""
    description = label["description"]
    body = {
        "id": label["id"],
        "name": label["name"],
        "description": description,
        "description_html": render_html(description),
        "text_color": text_color(label["color"]),
        "color": label["color"],
        "subscribed": False,
        "priority": None,
        "is_project_label": label["project_id"] is not None,
    }
    if counts_in is not None:
        body.update(usage_counts(gl, label["id"], counts_in))
    return body


def render_html(text: str | None) -> str:
    if not text:
        return ""
    return f'<p data-sourcepos="1:1-1:{len(text)}" dir="auto">{html.escape(text)}</p>'


def usage_counts(gl: GitLabBase, label_id: int, group_ids: set[int]) -> dict[str, int]:
    """Open and closed issues and open MRs with the label under the groups."""

    def count(kind: str, state: str) -> int:
        return sum(
            1
            for item in gl.state[kind].values()
            if label_id in item["label_ids"]
            and item["state"] == state
            and project_group_id(gl, item) in group_ids
        )

    return {
        "open_issues_count": count("issues", "opened"),
        "closed_issues_count": count("issues", "closed"),
        "open_merge_requests_count": count("merge_requests", "opened"),
    }


def project_group_id(gl: GitLabBase, item: dict[str, Any]) -> int:
    return int(gl.state["projects"][str(item["project_id"])]["namespace_id"])


def find_label(
    gl: GitLabBase, group: dict[str, Any], ref: str, inherited: bool
) -> dict[str, Any]:
    """A label by id, else by title, among the group's (and ancestors')."""
    ids = lineage(gl, group) if inherited else {group["id"]}
    labels = group_labels(gl, ids)
    by_id = [label for label in labels if ref.isdigit() and label["id"] == int(ref)]
    by_title = [label for label in labels if label["name"] == ref]
    found = by_id or by_title
    if not found:
        raise not_found("Label")
    return found[0]


# -- label endpoints ----------------------------------------------------------------


def list_labels(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/labels``: ancestors' labels included by default."""
    group = gl.group_or_404(group_id)
    args = request.args
    ids = {group["id"]}
    if truthy(args.get("include_ancestor_groups", "true")):
        ids |= lineage(gl, group)
    if truthy(args.get("include_descendant_groups", "false")):
        ids |= subtree(gl, group)
    search = (args.get("search") or "").lower()
    labels = [
        label
        for label in group_labels(gl, ids)
        if search in (label["name"] + (label["description"] or "")).lower()
    ]
    labels.sort(key=lambda label: (label["name"].lower(), label["name"]))
    counts_in = subtree(gl, group) if truthy(args.get("with_counts", "false")) else None
    return gl.paginate(request, [label_json(gl, lb, counts_in) for lb in labels])


def get_label(
    gl: GitLabBase, request: Request, group_id: str, label_id: str
) -> Response:
    """``GET /groups/:id/labels/:label_id`` (id or URL-encoded title)."""
    group = gl.group_or_404(group_id)
    inherited = truthy(request.args.get("include_ancestor_groups", "true"))
    label = find_label(gl, group, label_id, inherited)
    return json_response(label_json(gl, label, subtree(gl, group)))


def post_label(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``POST /groups/:id/labels``: 409 if the title exists here or above."""
    group = gl.group_or_404(group_id)
    gl.require_level(group, REPORTER)
    data = request_data(request)
    for required in ("name", "color"):
        if not data.get(required):
            raise missing_param(required)
    name = check_title(data["name"])
    color = normalise_color(data["color"])
    if any(lb["name"] == name for lb in group_labels(gl, lineage(gl, group))):
        raise ApiError(409, {"message": "Label already exists"})
    label = create_label(gl, name, color, data.get("description"), group_id=group["id"])
    return json_response(label_json(gl, label), 201)


def put_label(
    gl: GitLabBase, request: Request, group_id: str, label_id: str | None = None
) -> Response:
    """``PUT /groups/:id/labels/:label_id``: ``new_name``, color, description.

    Also the older ``PUT /groups/:id/labels`` with ``name`` in the body, as
    python-gitlab's ``GroupLabel.save()`` sends it. Inherited labels: 404.
    """
    group = gl.group_or_404(group_id)
    gl.require_level(group, REPORTER)
    data = request_data(request)
    ref = label_id if label_id is not None else str(data.get("name") or "")
    if not ref:
        raise missing_param("name")
    label = find_label(gl, group, ref, inherited=False)
    if not any(k in data for k in ("new_name", "color", "description")):
        message = (
            "new_name, color, description are missing, "
            "at least one parameter must be provided"
        )
        raise ApiError(400, {"error": message})
    changes = label_changes(gl, group, label, data)
    label.update(changes)
    return json_response(label_json(gl, label))


def label_changes(
    gl: GitLabBase, group: dict[str, Any], label: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if data.get("new_name") is not None:
        title = check_title(data["new_name"])
        others = group_labels(gl, lineage(gl, group) | subtree(gl, group))
        if any(lb["name"] == title and lb["id"] != label["id"] for lb in others):
            raise invalid("title", "has already been taken")
        changes["name"] = title
    if data.get("color") is not None:
        changes["color"] = normalise_color(data["color"])
    if "description" in data:
        changes["description"] = data["description"]
    return changes


def delete_label(
    gl: GitLabBase, request: Request, group_id: str, label_id: str | None = None
) -> Response:
    """``DELETE /groups/:id/labels/:label_id``: gone from every issue and MR."""
    group = gl.group_or_404(group_id)
    gl.require_level(group, REPORTER)
    ref = (
        label_id
        if label_id is not None
        else str(request_data(request).get("name") or "")
    )
    label = find_label(gl, group, ref, inherited=False)
    del gl.state["labels"][str(label["id"])]
    for kind in ("issues", "merge_requests"):
        for item in gl.state[kind].values():
            if label["id"] in item["label_ids"]:
                item["label_ids"].remove(label["id"])
    return Response(status=204)


def put_label_by_name(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``PUT /groups/:id/labels`` (``name`` in the body; deprecated form)."""
    return put_label(gl, request, group_id)


def delete_label_by_name(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``DELETE /groups/:id/labels?name=`` (deprecated form)."""
    return delete_label(gl, request, group_id)


# -- issues and merge requests -------------------------------------------


def labels_param(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def resolve_labels(
    gl: GitLabBase, project: dict[str, Any], names: list[str]
) -> list[int]:
    """Label ids for titles; unknown titles become new project labels."""
    group = gl.project_group(project)
    available = group_labels(gl, lineage(gl, group)) + [
        lb for lb in gl.state["labels"].values() if lb["project_id"] == project["id"]
    ]
    ids = []
    for name in names:
        match = [lb["id"] for lb in available if lb["name"] == name]
        if not match:
            created = create_label(
                gl, check_title(name), DEFAULT_COLOR, project_id=project["id"]
            )
            available.append(created)
            match = [created["id"]]
        if match[0] not in ids:
            ids.append(match[0])
    return ids


def label_names(gl: GitLabBase, item: dict[str, Any]) -> list[str]:
    labels = gl.state["labels"]
    names = [labels[str(i)]["name"] for i in item["label_ids"] if str(i) in labels]
    return sorted(names)


def item_json(gl: GitLabBase, kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """The Issue / MergeRequest entity, the fields a tool reads."""
    project = gl.state["projects"][str(item["project_id"])]
    path = "issues" if kind == "issues" else "merge_requests"
    body = {k: v for k, v in item.items() if k not in ("label_ids", "author_id")}
    body["labels"] = label_names(gl, item)
    body["author"] = user_basic(gl, gl.user(item["author_id"]))
    body["assignees"] = []
    body["web_url"] = (
        f"{gl.web_base}/{project['path_with_namespace']}/-/{path}/{item['iid']}"
    )
    return body


def new_item(
    gl: GitLabBase, kind: str, project: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    """Store an issue or MR of a project, numbered per project (``iid``)."""
    iid = 1 + sum(
        1 for i in gl.state[kind].values() if i["project_id"] == project["id"]
    )
    item = {
        "id": gl.next_id(kind),
        "iid": iid,
        "project_id": project["id"],
        "title": str(data["title"]),
        "description": data.get("description"),
        "state": "opened",
        "created_at": gl.now(),
        "updated_at": gl.now(),
        "closed_at": None,
        "label_ids": resolve_labels(gl, project, labels_param(data.get("labels"))),
        "author_id": gl.require_user()["id"],
    }
    gl.state[kind][str(item["id"])] = item
    return item


def post_issue(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``POST /projects/:id/issues`` (``title``, ``labels``)."""
    project = gl.project_or_404(project_id)
    gl.require_project_level(project, REPORTER)
    data = request_data(request)
    if not data.get("title"):
        raise missing_param("title")
    return json_response(
        item_json(gl, "issues", new_item(gl, "issues", project, data)), 201
    )


def post_merge_request(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``POST /projects/:id/merge_requests``: 409 for a second open MR."""
    project = gl.project_or_404(project_id)
    gl.require_project_level(project, DEVELOPER)
    data = request_data(request)
    for required in ("source_branch", "target_branch", "title"):
        if not data.get(required):
            raise missing_param(required)
    for other in gl.state["merge_requests"].values():
        same = other["project_id"] == project["id"] and other["state"] == "opened"
        if same and other["source_branch"] == data["source_branch"]:
            message = (
                "Another open merge request already exists for this source "
                f"branch: !{other['iid']}"
            )
            raise ApiError(409, {"message": [message]})
    item = new_item(gl, "merge_requests", project, data)
    item["source_branch"] = str(data["source_branch"])
    item["target_branch"] = str(data["target_branch"])
    return json_response(item_json(gl, "merge_requests", item), 201)


def update_item(
    gl: GitLabBase, kind: str, request: Request, project_id: str, iid: str
) -> Response:
    """Change state (``state_event``) and labels of an issue or MR."""
    project = gl.project_or_404(project_id)
    gl.require_project_level(project, REPORTER if kind == "issues" else DEVELOPER)
    item = find_item(gl, kind, project, iid)
    data = request_data(request)
    if data.get("state_event") in ("close", "reopen"):
        closing = data["state_event"] == "close"
        item["state"] = "closed" if closing else "opened"
        item["closed_at"] = gl.now() if closing else None
    if "labels" in data:
        item["label_ids"] = resolve_labels(gl, project, labels_param(data["labels"]))
    for name in labels_param(data.get("add_labels")):
        for label_id in resolve_labels(gl, project, [name]):
            if label_id not in item["label_ids"]:
                item["label_ids"].append(label_id)
    drop = set(resolve_labels(gl, project, labels_param(data.get("remove_labels"))))
    item["label_ids"] = [i for i in item["label_ids"] if i not in drop]
    item["updated_at"] = gl.now()
    return json_response(item_json(gl, kind, item))


def find_item(
    gl: GitLabBase, kind: str, project: dict[str, Any], iid: str
) -> dict[str, Any]:
    for item in gl.state[kind].values():
        if item["project_id"] == project["id"] and str(item["iid"]) == iid:
            found: dict[str, Any] = item
            return found
    raise not_found("Issue" if kind == "issues" else "Merge Request")


def put_issue(gl: GitLabBase, request: Request, project_id: str, iid: str) -> Response:
    """``PUT /projects/:id/issues/:iid``."""
    return update_item(gl, "issues", request, project_id, iid)


def put_merge_request(
    gl: GitLabBase, request: Request, project_id: str, iid: str
) -> Response:
    """``PUT /projects/:id/merge_requests/:iid``."""
    return update_item(gl, "merge_requests", request, project_id, iid)


def list_items(
    gl: GitLabBase, kind: str, request: Request, project_ids: set[int]
) -> Response:
    """Issues or MRs filtered by ``labels`` (all of them), ``state``, branch."""
    args = request.args
    wanted = labels_param(args.get("labels"))
    state = args.get("state") or "all"
    source = args.get("source_branch")
    found = []
    for item in sorted(gl.state[kind].values(), key=lambda i: -int(i["id"])):
        names = label_names(gl, item)
        if item["project_id"] not in project_ids or not set(wanted) <= set(names):
            continue
        if state != "all" and item["state"] != state:
            continue
        if source and item.get("source_branch") != source:
            continue
        found.append(item_json(gl, kind, item))
    return gl.paginate(request, found)


def group_project_ids(gl: GitLabBase, group: dict[str, Any]) -> set[int]:
    ids = subtree(gl, group)
    return {
        p["id"]
        for p in gl.state["projects"].values()
        if p["namespace_id"] in ids and gl.can_read_project(p)
    }


def group_issues(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/issues?labels=``."""
    group = gl.group_or_404(group_id)
    return list_items(gl, "issues", request, group_project_ids(gl, group))


def group_merge_requests(gl: GitLabBase, request: Request, group_id: str) -> Response:
    """``GET /groups/:id/merge_requests?labels=``."""
    group = gl.group_or_404(group_id)
    return list_items(gl, "merge_requests", request, group_project_ids(gl, group))


def project_issues(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``GET /projects/:id/issues``."""
    project = gl.project_or_404(project_id)
    return list_items(gl, "issues", request, {project["id"]})


def project_merge_requests(
    gl: GitLabBase, request: Request, project_id: str
) -> Response:
    """``GET /projects/:id/merge_requests`` (``source_branch`` filter)."""
    project = gl.project_or_404(project_id)
    return list_items(gl, "merge_requests", request, {project["id"]})


def register(gl: GitLabBase) -> None:
    """Add this module's routes to the emulator."""
    labels = "/groups/<group_id>/labels"
    gl.add(labels, "GET", list_labels)
    gl.add(labels, "POST", post_label)
    gl.add(labels, "PUT", put_label_by_name)
    gl.add(labels, "DELETE", delete_label_by_name)
    gl.add(labels + "/<label_id>", "GET", get_label)
    gl.add(labels + "/<label_id>", "PUT", put_label)
    gl.add(labels + "/<label_id>", "DELETE", delete_label)
    gl.add("/groups/<group_id>/issues", "GET", group_issues)
    gl.add("/groups/<group_id>/merge_requests", "GET", group_merge_requests)
    gl.add("/projects/<project_id>/issues", "GET", project_issues)
    gl.add("/projects/<project_id>/issues", "POST", post_issue)
    gl.add("/projects/<project_id>/issues/<iid>", "PUT", put_issue)
    gl.add("/projects/<project_id>/merge_requests", "GET", project_merge_requests)
    gl.add("/projects/<project_id>/merge_requests", "POST", post_merge_request)
    gl.add("/projects/<project_id>/merge_requests/<iid>", "PUT", put_merge_request)
