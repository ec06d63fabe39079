"""Repository files, branches and commits of the GitLab emulator.

References: GitLab doc/api/repository_files.md, doc/api/commits.md,
doc/api/branches.md; app/services/files/multi_service.rb for the per-action
checks of ``POST /repository/commits``.

A repository is a dict of commits (each with a full snapshot of the tree,
base64 contents) and a dict of branch heads.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, json_response, request_data
from tenantctl.sandbox.gitlab_base import (
    DEVELOPER,
    MAINTAINER,
    GitLabBase,
    missing_param,
    not_found,
)

_ACTIONS = ("create", "update", "delete", "move", "chmod")


def commit_error(message: str) -> ApiError:
    """How the commits API reports a failed action (render_api_error!)."""
    return ApiError(400, {"message": message})


# -- storage ----------------------------------------------------------------


def repo(project: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = project["repo"]
    return found


def head_tree(project: dict[str, Any], sha: str | None) -> dict[str, str]:
    if sha is None:
        return {}
    tree: dict[str, str] = repo(project)["commits"][sha]["tree"]
    return dict(tree)


def resolve_ref(project: dict[str, Any], ref: str) -> str | None:
    """The commit a branch name or a (possibly short) sha points to."""
    branches = repo(project)["branches"]
    if ref in branches:
        return str(branches[ref])
    if len(ref) >= 7:
        for sha in repo(project)["commits"]:
            if sha.startswith(ref):
                return str(sha)
    return None


def history(project: dict[str, Any], sha: str | None) -> list[dict[str, Any]]:
    """The commits reachable from ``sha``, newest first (linear history)."""
    commits = repo(project)["commits"]
    found = []
    while sha is not None:
        commit = commits[sha]
        found.append(commit)
        sha = commit["parent_ids"][0] if commit["parent_ids"] else None
    return found


def last_commit_for(project: dict[str, Any], sha: str | None, path: str) -> str | None:
    """The newest commit up to ``sha`` that touched ``path``."""
    for commit in history(project, sha):
        if any(
            path in (c["file_path"], c.get("previous_path")) for c in commit["changes"]
        ):
            return str(commit["id"])
    return None


def write_commit(
    gl: GitLabBase,
    project: dict[str, Any],
    branch: str,
    message: str,
    tree: dict[str, str],
    changes: list[dict[str, Any]],
    author: dict[str, Any],
) -> dict[str, Any]:
    """Store a commit with the new tree and move the branch to it."""
    parent = repo(project)["branches"].get(branch)
    sha = secrets.token_hex(20)
    now = gl.now()
    commit = {
        "id": sha,
        "short_id": sha[:8],
        "title": message.splitlines()[0] if message else "",
        "message": message,
        "author_name": author["name"],
        "author_email": author["email"],
        "authored_date": now,
        "committer_name": author["name"],
        "committer_email": author["email"],
        "committed_date": now,
        "created_at": now,
        "parent_ids": [parent] if parent else [],
        "changes": changes,
        "tree": tree,
        "branch": branch,
    }
    repo(project)["commits"][sha] = commit
    repo(project)["branches"][branch] = sha
    project["last_activity_at"] = now
    return commit


def seed_commit(
    gl: GitLabBase,
    project: dict[str, Any],
    files: dict[str, str],
    message: str,
    author: dict[str, Any],
) -> dict[str, Any]:
    """Commit text files to the default branch (a seed helper)."""
    branch = project["default_branch"]
    tree = head_tree(project, repo(project)["branches"].get(branch))
    changes = []
    for path, text in files.items():
        action = "update" if path in tree else "create"
        tree[path] = base64.b64encode(text.encode()).decode()
        changes.append({"action": action, "file_path": path})
    return write_commit(gl, project, branch, message, tree, changes, author)


def commit_json(
    gl: GitLabBase, project: dict[str, Any], commit: dict[str, Any]
) -> dict[str, Any]:
    """The Commit entity (lib/api/entities/commit.rb)."""
    body = {k: v for k, v in commit.items() if k not in ("tree", "changes", "branch")}
    body["trailers"] = {}
    body["extended_trailers"] = {}
    body["web_url"] = (
        f"{gl.web_base}/{project['path_with_namespace']}/-/commit/{commit['id']}"
    )
    return body


# -- files ------------------------------------------------------------------


def ref_or_404(project: dict[str, Any], request: Request) -> str:
    ref = request.args.get("ref")
    if not ref:
        raise missing_param("ref")
    sha = resolve_ref(project, ref)
    if sha is None:
        raise not_found("Commit")
    return sha


def file_json(project: dict[str, Any], sha: str, path: str, ref: str) -> dict[str, Any]:
    """The files API answer (doc/api/repository_files.md)."""
    encoded = head_tree(project, sha).get(path)
    if encoded is None:
        raise not_found("File")
    raw = base64.b64decode(encoded)
    return {
        "file_name": path.rsplit("/", 1)[-1],
        "file_path": path,
        "size": len(raw),
        "encoding": "base64",
        "content_sha256": hashlib.sha256(raw).hexdigest(),
        "ref": ref,
        "blob_id": hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest(),
        "commit_id": sha,
        "last_commit_id": last_commit_for(project, sha, path),
        "execute_filemode": False,
        "content": encoded,
    }


def get_file(
    gl: GitLabBase, request: Request, project_id: str, file_path: str
) -> Response:
    """``GET /projects/:id/repository/files/:file_path?ref=``."""
    project = gl.project_or_404(project_id)
    sha = ref_or_404(project, request)
    return json_response(file_json(project, sha, file_path, request.args["ref"]))


def get_raw_file(
    gl: GitLabBase, request: Request, project_id: str, file_path: str
) -> Response:
    """``GET .../files/:file_path/raw`` (``ref`` defaults to the default branch)."""
    project = gl.project_or_404(project_id)
    ref = request.args.get("ref") or project["default_branch"]
    sha = resolve_ref(project, ref)
    if sha is None:
        raise not_found("Commit")
    encoded = head_tree(project, sha).get(file_path)
    if encoded is None:
        raise not_found("File")
    return Response(base64.b64decode(encoded), content_type="text/plain")


# -- branches and commits ---------------------------------------------------


def get_branch(
    gl: GitLabBase, request: Request, project_id: str, branch: str
) -> Response:
    """``GET /projects/:id/repository/branches/:branch``."""
    project = gl.project_or_404(project_id)
    sha = repo(project)["branches"].get(branch)
    if sha is None:
        raise not_found("Branch")
    commit = repo(project)["commits"][sha]
    default = branch == project["default_branch"]
    web = f"{gl.web_base}/{project['path_with_namespace']}"
    return json_response(
        {
            "name": branch,
            "merged": False,
            "protected": default,
            "default": default,
            "developers_can_push": False,
            "developers_can_merge": False,
            "can_push": gl.project_level(project) >= MAINTAINER,
            "web_url": f"{web}/-/tree/{branch}",
            "commit": commit_json(gl, project, commit),
        }
    )


def list_commits(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``GET /projects/:id/repository/commits`` (``ref_name``, ``path``)."""
    project = gl.project_or_404(project_id)
    ref = request.args.get("ref_name") or project["default_branch"]
    sha = resolve_ref(project, ref)
    if sha is None:
        raise not_found("Commit")
    path = request.args.get("path")
    commits = [
        c
        for c in history(project, sha)
        if not path or any(ch["file_path"] == path for ch in c["changes"])
    ]
    return gl.paginate(request, [commit_json(gl, project, c) for c in commits])


def get_commit(gl: GitLabBase, request: Request, project_id: str, sha: str) -> Response:
    """``GET /projects/:id/repository/commits/:sha``."""
    project = gl.project_or_404(project_id)
    found = resolve_ref(project, sha)
    if found is None:
        raise not_found("Commit")
    return json_response(commit_json(gl, project, repo(project)["commits"][found]))


def post_commit(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``POST /projects/:id/repository/commits``: all actions or none.

    Per action (app/services/files/multi_service.rb): ``create`` on an
    existing path, ``update``/``delete`` on a missing one and a stale
    ``last_commit_id`` are 400; a commit that changes nothing is refused.
    """
    project = gl.project_or_404(project_id)
    gl.require_project_level(project, DEVELOPER)
    data = request_data(request)
    for required in ("branch", "commit_message", "actions"):
        if required not in data or data[required] in (None, ""):
            raise missing_param(required)
    branch = str(data["branch"])
    base = start_sha(project, branch, data)
    tree = head_tree(project, base)
    before = dict(tree)
    changes = [apply_action(project, base, tree, a) for a in data["actions"]]
    if not changes and not data.get("allow_empty"):
        raise commit_error("Provide at least one action, or set allow_empty to true")
    if changes and tree == before:
        # TODO: wording unverified; GitLab refuses a commit that changes nothing.
        raise commit_error("No changes were made to the repository")
    author = gl.require_user()
    commit = write_commit(
        gl, project, branch, str(data["commit_message"]), tree, changes, author
    )
    body = commit_json(gl, project, commit)
    body["stats"] = {"additions": 0, "deletions": 0, "total": len(changes)}
    return json_response(body, 201)


def start_sha(project: dict[str, Any], branch: str, data: dict[str, Any]) -> str | None:
    """The commit a new commit builds on (``start_branch`` for a new branch)."""
    branches = repo(project)["branches"]
    if branch in branches:
        return str(branches[branch])
    start = data.get("start_branch") or data.get("start_sha")
    if start:
        sha = resolve_ref(project, str(start))
        if sha is None:
            raise commit_error(f"Invalid reference name: {start}")
        return sha
    if branches:
        raise commit_error("You can only create or edit files when you are on a branch")
    return None


def apply_action(
    project: dict[str, Any], base: str | None, tree: dict[str, str], action: Any
) -> dict[str, Any]:
    """Apply one ``actions[]`` entry to ``tree``; 400 when it can't apply."""
    if not isinstance(action, dict) or action.get("action") not in _ACTIONS:
        raise ApiError(400, {"error": "actions[0][action] does not have a valid value"})
    kind, path = action["action"], str(action.get("file_path") or "")
    if not path:
        raise ApiError(400, {"error": "actions[0][file_path] is missing"})
    exists = path in tree
    if kind == "create" and exists:
        raise commit_error("A file with this name already exists")
    if kind in ("update", "delete", "chmod") and not exists:
        raise commit_error("A file with this name doesn't exist")
    check_last_commit(project, base, path, action)
    if kind == "delete":
        del tree[path]
    elif kind == "move":
        move_file(tree, path, action)
    elif kind in ("create", "update"):
        tree[path] = encode_content(action)
    change = {"action": kind, "file_path": path}
    if kind == "move":
        change["previous_path"] = action.get("previous_path")
    return change


def check_last_commit(
    project: dict[str, Any], base: str | None, path: str, action: dict[str, Any]
) -> None:
    wanted = action.get("last_commit_id")
    if wanted and wanted != last_commit_for(project, base, path):
        raise commit_error(
            "You are attempting to update a file that has changed since you "
            "started editing it."
        )


def move_file(tree: dict[str, str], path: str, action: dict[str, Any]) -> None:
    previous = str(action.get("previous_path") or "")
    if previous not in tree:
        raise commit_error("A file with this name doesn't exist")
    if path in tree:
        raise commit_error("A file with this name already exists")
    content = tree.pop(previous)
    tree[path] = (
        encode_content(action) if action.get("content") is not None else content
    )


def encode_content(action: dict[str, Any]) -> str:
    """Action content as stored (base64), from ``encoding`` text or base64."""
    content = str(action.get("content") or "")
    if action.get("encoding") == "base64":
        return base64.b64encode(base64.b64decode(content)).decode()
    return base64.b64encode(content.encode()).decode()


def file_text(project: dict[str, Any], sha: str, path: str) -> str | None:
    """A file's text at a commit, or None when it is absent."""
    encoded = head_tree(project, sha).get(path)
    return None if encoded is None else base64.b64decode(encoded).decode()


def register(gl: GitLabBase) -> None:
    """Add this module's routes to the emulator."""
    files = "/projects/<project_id>/repository/files/<file_path>"
    gl.add(files, "GET,HEAD", get_file)
    gl.add(files + "/raw", "GET", get_raw_file)
    gl.add("/projects/<project_id>/repository/branches/<branch>", "GET", get_branch)
    gl.add("/projects/<project_id>/repository/commits", "GET", list_commits)
    gl.add("/projects/<project_id>/repository/commits", "POST", post_commit)
    gl.add("/projects/<project_id>/repository/commits/<sha>", "GET", get_commit)
