"""The platform of platform.md, as the GitLab emulator starts with it."""

from __future__ import annotations

from typing import Any

from tenantctl.sandbox.gitlab_base import DEVELOPER, MAINTAINER, OWNER, GitLabBase
from tenantctl.sandbox.gitlab_groups import (
    add_member,
    add_user,
    create_group,
    create_project,
)
from tenantctl.sandbox.gitlab_labels import create_label, new_item
from tenantctl.sandbox.gitlab_repo import seed_commit
from tenantctl.sandbox.gitlab_runners import create_runner, touch_runner
from tenantctl.sandbox.gitlab_tokens import create_token_for_user, seed_group_token
from tenantctl.sandbox.gitlab_vars import seed_variable

CI_YAML = """\
# Shared pipeline of every tenant. Owners: platform team.
stages:
  - triage
  - build
  - deploy

include:
  - local: '.gitlab-ci/templates/base.yml'
  - local: '.gitlab-ci/groups/administrators.yml'
    rules:
      - if: $CI_GROUP == "administrators"
      - if: $CI_GROUP == null        # the default tenant
  - local: '.gitlab-ci/groups/developers.yml'
    rules:
      - if: $CI_GROUP == "developers"

triage:
  extends: .issue-job
  stage: triage
  script:
    - ./scripts/triage.sh "$ISSUE_IID"

implement:
  extends: .issue-job
  stage: build
  script:
    - ./scripts/implement.sh "$ISSUE_IID"
"""

BASE_YML = """\
# Base templates shared by every job.
.issue-job:
  resource_group: issue-$ISSUE_IID
  image: registry.example.com/platform/agent:latest
  tags:
    - $CI_GROUP
  before_script:
    - echo "issue $ISSUE_IID for $CI_GROUP"
"""

GROUP_YML = """\
# Overrides of the {tier} tier for the {group} tenant.
variables:
  SECURITY_SCAN_BLOCKING: "{blocking}"
  STAGING_DEPLOY: "{staging}"

deploy-staging:
  extends: .issue-job
  stage: deploy
  when: {when}
  script:
    - ./scripts/deploy.sh staging
"""

REPLICATE_SH = """\
#!/bin/sh
# Copy the board labels of one group to another.
# Usage: replicate-labels.sh SOURCE TARGET
set -eu
src="$1"; dst="$2"
curl -sf --header "PRIVATE-TOKEN: $GL_TOKEN" \\
  "$CI_API_V4_URL/groups/$src/labels?per_page=100" |
  jq -c '.[] | {name, color, description}' |
  while read -r label; do
    curl -sf --header "PRIVATE-TOKEN: $GL_TOKEN" \\
      --header "Content-Type: application/json" \\
      --data "$label" "$CI_API_V4_URL/groups/$dst/labels" || true
  done
"""

SPEC_MD = """\
# Spec: <title>

## Problem

## Proposal

## Acceptance criteria
"""

GROUPS_TS = """\
import type { JwtPayload } from "./jwt";

// Tenants allowed to see the dashboard.
export const allowed: string[] = [
  "administrators",
  "developers",
];

/** The tenant groups of a token: the groups claim, else realm roles. */
export function tenantGroups(payload: JwtPayload): string[] {
  const claimed = payload.groups ?? payload.realm_access?.roles ?? [];
  return claimed
    .map((group) => group.replace(/^\\//, ""))
    .filter((group) => allowed.includes(group));
}

/** The environment variable holding a tenant's GitLab token. */
export function tokenVariable(group: string): string {
  const legacy: Record<string, string> = {
    administrators: "GITLAB_TOKEN_ADMIN",
    developers: "GITLAB_TOKEN_DEV",
  };
  const name = group.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return legacy[group] ?? `GITLAB_TOKEN_${name}`;
}
"""

# (name, color, description): the administrators' board labels.
BOARD_LABELS: list[tuple[str, str, str]] = [
    ("workflow::triage", "#FFF", "Waiting for triage"),
    ("workflow::refinement", "#dbb8ff", "Being refined into a spec"),
    ("workflow::ready", "#428BCA", "Ready for development"),
    ("workflow::in progress", "#1f75cb", "Someone works on it"),
    ("workflow::in review", "#8E44AD", "Waiting for review"),
    ("workflow::blocked", "#D9534F", "Blocked by something else"),
    ("workflow::done", "#5CB85C", "Finished"),
    ("priority::critical", "#8B0000", "Drop everything"),
    ("priority::high", "#E24329", "Next in line"),
    ("priority::medium", "#FC9403", "Soon"),
    ("priority::low", "#f0ad4e", "Some day"),
    ("type::bug", "#FF0000", "Something is broken"),
    ("type::feature", "#69D100", "Something new"),
    ("type::maintenance", "#330066", "Upkeep and refactoring"),
    ("type::documentation", "#0033CC", "Docs only"),
    ("type::security", "#CC0033", "Security fix"),
    ("severity::1", "#cc0000", "Outage"),
    ("severity::2", "#d9534f", "Major"),
    ("severity::3", "#f0ad4e", "Minor"),
    ("severity::4", "#6699cc", "Cosmetic"),
    ("comp:Flat Export", "#A8D695", "The flat export component"),
    ("comp:Dashboard", "#7F8C8D", "The operators' dashboard"),
    ("comp:Pipeline", "#AD8D43", "The shared pipeline library"),
    ("comp:Runner", "#34495E", "Runners and executors"),
    ("security", "#D10069", "Security relevant"),
    ("good first issue", "#7ee", "Small and well described"),
    ("needs-spec", "#ED9121", "A spec must be written first"),
    ("agent::generated", "#009966", "Opened by the AI pipeline"),
    ("agent::approved", "#00b140", "A person approved the agent's change"),
    ("duplicate", "#CCCCCC", "Already reported"),
]


def developers_labels() -> list[tuple[str, str, str]]:
    """The developers' drifted copy: 2 colors differ, 1 missing, 1 extra."""
    drifted = {"priority::high": "#FF0000", "comp:Dashboard": "#7f8c8e"}
    labels = [
        (name, drifted.get(name, color), description)
        for name, color, description in BOARD_LABELS
        if name != "agent::approved"
    ]
    labels.append(("frontend", "#5843AD", "Browser code"))
    return labels


def seed(gl: GitLabBase) -> None:
    """Users, tenants, projects, labels, tokens, variables, runners, issues."""
    root_id = add_user(gl, "root", "Administrator", admin=True)
    users = {
        n: add_user(gl, n, n.capitalize())
        for n in ("alice", "bob", "carol", "dave", "erin")
    }
    gl.state["admin_token"] = create_token_for_user(
        gl, "root", ["api", "read_api", "create_runner", "read_user"]
    )
    admins = create_group(
        gl,
        "administrators",
        "administrators",
        description="Strict-tier tenant: infrastructure and core services",
    )
    devs = create_group(
        gl,
        "developers",
        "developers",
        description="Standard-tier tenant: applications",
    )
    add_member(gl, admins, users["alice"], OWNER)
    add_member(gl, admins, users["bob"], MAINTAINER)
    add_member(gl, devs, users["carol"], DEVELOPER)
    add_member(gl, devs, users["dave"], MAINTAINER)
    for name, color, description in BOARD_LABELS:
        create_label(gl, name, color, description, group_id=admins["id"])
    for name, color, description in developers_labels():
        create_label(gl, name, color, description, group_id=devs["id"])
    root = gl.user(root_id)
    seed_projects(gl, admins, root)
    seed_secrets(gl, admins, devs)
    seed_runners(gl, admins, devs, root_id)
    seed_issues(gl, admins, devs, root)


def seed_projects(gl: GitLabBase, admins: dict[str, Any], root: dict[str, Any]) -> None:
    cicd = create_project(gl, admins, "cicd", "cicd", "The shared pipeline library")
    seed_commit(
        gl,
        cicd,
        {
            ".gitlab-ci.yml": CI_YAML,
            ".gitlab-ci/templates/base.yml": BASE_YML,
            ".gitlab-ci/groups/administrators.yml": GROUP_YML.format(
                tier="strict",
                group="administrators",
                blocking="true",
                staging="manual",
                when="manual",
            ),
            ".gitlab-ci/groups/developers.yml": GROUP_YML.format(
                tier="standard",
                group="developers",
                blocking="false",
                staging="automatic",
                when="on_success",
            ),
            "scripts/replicate-labels.sh": REPLICATE_SH,
            "specs/templates/spec.md": SPEC_MD,
        },
        "Initial commit",
        root,
    )
    dashboard = create_project(
        gl, admins, "dashboard", "dashboard", "Operators' dashboard"
    )
    seed_commit(
        gl,
        dashboard,
        {"src/auth/groups.ts": GROUPS_TS, "README.md": "# Dashboard\n"},
        "Initial commit",
        root,
    )


def seed_secrets(gl: GitLabBase, admins: dict[str, Any], devs: dict[str, Any]) -> None:
    admin_token = seed_group_token(gl, admins, "tenantctl", ["api"], MAINTAINER, 60)
    dev_token = seed_group_token(gl, devs, "tenantctl", ["read_api"], DEVELOPER, 60)
    dashboard = next(
        p for p in gl.state["projects"].values() if p["path"] == "dashboard"
    )
    for key, value in (
        ("GITLAB_TOKEN_ADMIN", admin_token),
        ("GITLAB_TOKEN_DEV", dev_token),
    ):
        seed_variable(gl, "project", dashboard["id"], key=key, value=value, masked=True)
    for group, value in ((admins, admin_token), (devs, dev_token)):
        seed_variable(gl, "group", group["id"], key="CI_GROUP", value=group["path"])
        seed_variable(
            gl,
            "group",
            group["id"],
            key="GL_TOKEN",
            value=value,
            masked=True,
            protected=True,
        )
    seed_variable(
        gl,
        "group",
        admins["id"],
        key="MATRIX_BOT_TOKEN",
        value="syt_bWF0cml4LWJvdA_sandboxSecret01",
        masked=True,
    )
    seed_variable(
        gl,
        "group",
        admins["id"],
        key="MATRIX_ROOM_ID",
        value="!platform-alerts:matrix.example.com",
    )


def seed_runners(
    gl: GitLabBase, admins: dict[str, Any], devs: dict[str, Any], root_id: int
) -> None:
    strict = {"locked": True, "access_level": "ref_protected"}
    standard = {"locked": False, "access_level": "not_protected"}
    for group, tier in ((admins, strict), (devs, standard)):
        runner, _ = create_runner(
            gl,
            {
                "runner_type": "group_type",
                "group_ids": [group["id"]],
                "tag_list": [group["path"]],
                "run_untagged": False,
                "description": f"{group['path']} runner",
                **tier,
            },
            root_id,
        )
        touch_runner(gl, runner["id"], 120)
    shared, _ = create_runner(
        gl,
        {
            "runner_type": "instance_type",
            "description": "shared runner",
            "run_untagged": True,
        },
        root_id,
    )
    touch_runner(gl, shared["id"], 300)


def seed_issues(
    gl: GitLabBase, admins: dict[str, Any], devs: dict[str, Any], root: dict[str, Any]
) -> None:
    projects = gl.state["projects"]
    cicd = next(p for p in projects.values() if p["path"] == "cicd")
    app = create_project_for(gl, devs)
    gl.actor.user = root
    for project, title, labels in (
        (cicd, "Runner picks up untagged jobs", "type::bug,priority::high,comp:Runner"),
        (
            cicd,
            "Flat export drops comments",
            "type::bug,comp:Flat Export,workflow::triage",
        ),
        (cicd, "Document the tenant onboarding", "type::documentation,workflow::ready"),
        (app, "Add dark mode", "type::feature,workflow::in progress,frontend"),
        (app, "Login loops on expired session", "type::bug,priority::high,security"),
    ):
        new_item(gl, "issues", project, {"title": title, "labels": labels})
    mr = new_item(
        gl,
        "merge_requests",
        cicd,
        {
            "title": "Serialise jobs per issue",
            "labels": "workflow::in review,comp:Pipeline",
        },
    )
    mr.update(source_branch="serialise-jobs", target_branch="main")
    mr2 = new_item(
        gl, "merge_requests", app, {"title": "Dark mode", "labels": "type::feature"}
    )
    mr2.update(source_branch="dark-mode", target_branch="main")
    gl.actor.user = None


def create_project_for(gl: GitLabBase, devs: dict[str, Any]) -> dict[str, Any]:
    root = gl.user(1)
    app = create_project(gl, devs, "webapp", "webapp", "The developers' application")
    seed_commit(gl, app, {"README.md": "# Webapp\n"}, "Initial commit", root)
    return app
