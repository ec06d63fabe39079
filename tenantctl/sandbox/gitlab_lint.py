"""CI lint of the GitLab emulator: a modest but real check of a pipeline.

References: GitLab doc/api/lint.md, doc/ci/yaml/includes.md (``include``
rules see project, group and instance variables only, and are evaluated
before the file is looked for), lib/gitlab/ci/config/entry/job.rb (a job
needs ``script`` or ``trigger``), lib/gitlab/ci/build/rules/rule/clause/if.rb.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import json_response, request_data
from tenantctl.sandbox.gitlab_base import (
    DEVELOPER,
    GitLabBase,
    missing_param,
    not_found,
)
from tenantctl.sandbox.gitlab_repo import file_text, resolve_ref

_RESERVED = {
    "stages",
    "variables",
    "include",
    "default",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
}
_DEFAULT_STAGES = [".pre", "build", "test", "deploy", ".post"]
_COMPARE = re.compile(r"^\$(\w+)\s*(==|!=)\s*(\"[^\"]*\"|'[^']*'|null|\$\w+)$")
_PRESENCE = re.compile(r"^\$(\w+)$")


# -- rules ----------------------------------------------------------------


def atom_true(atom: str, variables: dict[str, str]) -> bool:
    """One ``$VAR == "x"`` / ``$VAR != null`` / ``$VAR`` comparison."""
    atom = atom.strip().strip("()").strip()
    presence = _PRESENCE.match(atom)
    if presence:
        return bool(variables.get(presence.group(1)))
    match = _COMPARE.match(atom)
    if match is None:
        return False
    name, operator, right = match.groups()
    left = variables.get(name)
    if right == "null":
        value = None
    elif right.startswith("$"):
        value = variables.get(right[1:])
    else:
        value = right[1:-1]
    return (left == value) == (operator == "==")


def expression_true(expression: str, variables: dict[str, str]) -> bool:
    """``||`` of ``&&`` of simple comparisons, as rules ``if:`` reads them."""
    return any(
        all(atom_true(atom, variables) for atom in branch.split("&&"))
        for branch in expression.split("||")
    )


def rules_allow(rules: Any, variables: dict[str, str]) -> bool:
    """The first matching rule decides; no match means not included."""
    if rules is None:
        return True
    for rule in rules if isinstance(rules, list) else []:
        condition = rule.get("if") if isinstance(rule, dict) else None
        if condition is None or expression_true(str(condition), variables):
            return not (isinstance(rule, dict) and rule.get("when") == "never")
    return False


def lint_variables(gl: GitLabBase, project: dict[str, Any], ref: str) -> dict[str, str]:
    """Group (ancestors first), project and a few predefined variables."""
    group = gl.project_group(project)
    found: dict[str, str] = {
        "CI_PROJECT_PATH": project["path_with_namespace"],
        "CI_PROJECT_NAME": project["path"],
        "CI_PROJECT_NAMESPACE": group["full_path"],
        "CI_DEFAULT_BRANCH": project["default_branch"],
        "CI_COMMIT_REF_NAME": ref,
    }
    store = gl.state["variables"]
    for each in [*reversed(gl.ancestors(group)), group]:
        for var in store["group"].get(str(each["id"]), []):
            found[var["key"]] = var["value"]
    for var in store["project"].get(str(project["id"]), []):
        found[var["key"]] = var["value"]
    return found


# -- linting --------------------------------------------------------------


def include_entries(value: Any) -> list[dict[str, Any]]:
    """``include:`` as a list of dicts (strings are local paths)."""
    items = value if isinstance(value, list) else [value]
    entries = []
    for item in items:
        if isinstance(item, str):
            entries.append({"local": item})
        elif isinstance(item, dict):
            entries.append(item)
    return entries


def lint(
    gl: GitLabBase, project: dict[str, Any], content: str, ref: str
) -> dict[str, Any]:
    """The lint answer for ``content`` in the context of ``project`` at ``ref``."""
    answer: dict[str, Any] = {
        "valid": False,
        "errors": [],
        "warnings": [],
        "merged_yaml": None,
        "includes": [],
    }
    try:
        config = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        answer["errors"] = [f"(<unknown>): {exc}".replace("\n", " ")]
        return answer
    if not isinstance(config, dict):
        answer["errors"] = ["Invalid configuration format"]
        return answer
    errors = merge_includes(gl, project, config, ref, answer["includes"])
    if not errors:
        errors = job_errors(config)
    answer["errors"] = errors
    answer["valid"] = not errors
    if not errors:
        config.pop("include", None)
        answer["merged_yaml"] = yaml.safe_dump(config, sort_keys=False)
    return answer


def merge_includes(
    gl: GitLabBase,
    project: dict[str, Any],
    config: dict[str, Any],
    ref: str,
    includes: list[dict[str, Any]],
) -> list[str]:
    """Read every ``local`` include whose rules match into ``config``."""
    sha = resolve_ref(project, ref)
    variables = lint_variables(gl, project, ref)
    web = f"{gl.web_base}/{project['path_with_namespace']}"
    for entry in include_entries(config.get("include")):
        location = entry.get("local")
        if location is None or not rules_allow(entry.get("rules"), variables):
            continue
        path = str(location).lstrip("/")
        text = None if sha is None else file_text(project, sha, path)
        if text is None:
            return [f"Local file `{location}` does not exist!"]
        try:
            included = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            return [f"Included file `{location}` does not have valid YAML syntax!"]
        for key, value in included.items():
            config.setdefault(key, value)
        includes.append(
            {
                "type": "local",
                "location": str(location),
                "blob": f"{web}/-/blob/{sha}/{path}",
                "raw": f"{web}/-/raw/{sha}/{path}",
                "extra": {},
                "context_project": project["path_with_namespace"],
                "context_sha": sha,
            }
        )
    return []


def resolved(config: dict[str, Any], name: str, seen: set[str]) -> dict[str, Any]:
    """A job with its ``extends`` chain merged in (the job's keys win)."""
    job = config.get(name)
    if not isinstance(job, dict) or name in seen:
        return {}
    parents = job.get("extends") or []
    merged: dict[str, Any] = {}
    for parent in parents if isinstance(parents, list) else [parents]:
        merged.update(resolved(config, str(parent), seen | {name}))
    merged.update(job)
    return merged


def job_errors(config: dict[str, Any]) -> list[str]:
    """Each visible job needs a script or trigger, a known stage, known extends."""
    stages = config.get("stages") or _DEFAULT_STAGES
    known = [".pre", *stages, ".post"]
    errors = []
    for name, job in config.items():
        if name in _RESERVED or str(name).startswith("."):
            continue
        if not isinstance(job, dict):
            errors.append(f"jobs:{name} config should be a hash")
            continue
        parents = job.get("extends") or []
        for parent in parents if isinstance(parents, list) else [parents]:
            if parent not in config:
                errors.append(f"{name}: unknown keys in `extends` ({parent})")
        full = resolved(config, str(name), set())
        if "script" not in full and "trigger" not in full:
            errors.append(
                f"jobs:{name} config should implement a script: or a trigger: keyword"
            )
        stage = full.get("stage", "test")
        if stage not in known:
            errors.append(
                f"{name} job: chosen stage {stage} does not exist; available "
                f"stages are {', '.join(known)}"
            )
    return errors


def post_lint(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``POST /projects/:id/ci/lint`` (``content``, ``dry_run``, ``ref``)."""
    project = gl.project_or_404(project_id)
    gl.require_project_level(project, DEVELOPER)
    data = request_data(request)
    if data.get("content") is None:
        raise missing_param("content")
    ref = str(data.get("ref") or project["default_branch"])
    return json_response(lint(gl, project, str(data["content"]), ref))


def get_lint(gl: GitLabBase, request: Request, project_id: str) -> Response:
    """``GET /projects/:id/ci/lint``: the project's own ``.gitlab-ci.yml``."""
    project = gl.project_or_404(project_id)
    gl.require_project_level(project, DEVELOPER)
    ref = (
        request.args.get("sha") or request.args.get("ref") or project["default_branch"]
    )
    sha = resolve_ref(project, ref)
    text = None if sha is None else file_text(project, sha, ".gitlab-ci.yml")
    if text is None:
        raise not_found("File")
    return json_response(lint(gl, project, text, ref))


def register(gl: GitLabBase) -> None:
    """Add this module's routes to the emulator."""
    gl.add("/projects/<project_id>/ci/lint", "POST", post_lint)
    gl.add("/projects/<project_id>/ci/lint", "GET", get_lint)
