"""``tenantctl labels diff|sync|export`` against the sandbox: what groups hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gitlab
import yaml

from tenantctl.sandbox.core import Fault
from tenantctl.sandbox.gitlab_labels import create_label
from tests.conftest import Site, tenantctl

BASE_DRIFT = 3  # developers' seed: 2 colors differ, agent::approved missing


def own_labels(gl: gitlab.Gitlab, path: str) -> dict[str, Any]:
    group = gl.groups.get(path, lazy=True)
    found = group.labels.list(get_all=True, include_ancestor_groups=False)
    return {label.name: label for label in found}


def add_labels(site: Site, path: str, labels: list[tuple[str, str, str]]) -> None:
    """Put labels straight into the emulator's state (setup only)."""
    emulator = site.sandbox.gitlab
    with emulator.lock:
        group = emulator.find_group(path)
        assert group is not None
        for name, color, description in labels:
            create_label(emulator, name, color, description, group_id=group["id"])


def new_group(site: Site, path: str, parent: str | None = None) -> Any:
    fields: dict[str, Any] = {"name": path, "path": path}
    if parent is not None:
        fields["parent_id"] = site.gl.groups.get(parent).id
    return site.gl.groups.create(fields)


def counts(site: Site) -> dict[str, int]:
    return dict(site.sandbox.gitlab.counts)


def label_requests(site: Site, method: str) -> int:
    return sum(
        n
        for key, n in counts(site).items()
        if key.startswith(f"{method} ") and "/labels" in key
    )


def as_json(run: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(run.out)
    return doc


def target(doc: dict[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in doc["targets"] if t["target"] == path)
    return found


# -- the issue's cases ---------------------------------------------------------


def test_inherited_label_drift_is_reported_for_the_parent_not_written(
    site: Site,
) -> None:
    add_labels(site, "administrators", [("bug", "#FF0000", "Broken")])
    add_labels(site, "developers", [("bug", "#000000", "Broken")])
    new_group(site, "mobile", parent="developers")
    site.reset_counts()

    result = tenantctl("labels", "sync", "administrators", "developers/mobile")

    assert result.code == 0, result.err
    own = own_labels(site.gl, "developers/mobile")
    # Only the label neither the subgroup nor its parent has is created.
    assert set(own) == {"agent::approved"}
    assert label_requests(site, "POST") == 1
    assert label_requests(site, "PUT") == 0
    assert label_requests(site, "DELETE") == 0
    assert own_labels(site.gl, "developers")["bug"].color == "#000000"
    assert "'bug' is inherited from developers" in result.out
    assert "fix it in the parent group" in result.out

    check = tenantctl("labels", "diff", "administrators", "developers/mobile")
    assert check.code == 3
    assert "'priority::high' is inherited from developers" in check.out


def test_source_labels_over_several_pages_cost_pages_plus_writes(site: Site) -> None:
    bulk = [(f"bulk::{i:03}", "#123456", f"Bulk {i}") for i in range(230)]
    add_labels(site, "administrators", bulk)
    new_group(site, "qa")
    site.reset_counts()

    result = tenantctl("labels", "sync", "administrators", "qa", "--jobs", "1")

    assert result.code == 0, result.err
    # 3 pages of the source's 260 labels, 1 (empty) page of the target's,
    # one POST per label and not a request more.
    assert counts(site) == {
        "GET /api/v4/groups/<group_id>/labels": 4,
        "POST /api/v4/groups/<group_id>/labels": 260,
    }
    assert len(own_labels(site.gl, "qa")) == 260


def test_a_drifted_target_costs_its_pages_plus_one_write_per_change(
    site: Site,
) -> None:
    bulk = [(f"bulk::{i:03}", "#123456", f"Bulk {i}") for i in range(230)]
    add_labels(site, "administrators", bulk)
    drifted = [(n, "#654321" if i < 5 else c, d) for i, (n, c, d) in enumerate(bulk)]
    add_labels(site, "developers", drifted)
    site.reset_counts()

    result = tenantctl("labels", "sync", "administrators", "developers")

    assert result.code == 0, result.err
    assert counts(site) == {
        "GET /api/v4/groups/<group_id>/labels": 3 + 3,
        "PUT /api/v4/groups/<group_id>/labels/<label_id>": 2 + 5,
        "POST /api/v4/groups/<group_id>/labels": 1,
    }
    assert own_labels(site.gl, "developers")["bulk::004"].color == "#123456"


def test_colors_compare_as_colors_and_are_written_in_gitlab_form(
    site: Site,
) -> None:
    template = Path("labels.yml")
    template.write_text(
        "labels:\n"
        "  - {name: a, color: white}\n"
        "  - {name: b, color: '#ABC'}\n"
        "  - {name: c, color: DarkSlateGray}\n"
        "  - {name: d, color: '#00ff00'}\n"
    )
    new_group(site, "qa")
    add_labels(site, "qa", [("a", "#FFF", ""), ("b", "#aabbcc", "")])
    site.reset_counts()

    result = tenantctl("labels", "sync", "--from-file", str(template), "qa")

    assert result.code == 0, result.err
    own = own_labels(site.gl, "qa")
    assert {name: label.color for name, label in own.items()} == {
        "a": "#FFF",
        "b": "#aabbcc",
        "c": "#2F4F4F",
        "d": "#00ff00",
    }
    assert label_requests(site, "POST") == 2
    assert label_requests(site, "PUT") == 0


def test_a_renamed_label_keeps_its_issues(site: Site) -> None:
    gl = site.gl
    admins = gl.groups.get("administrators")
    admins.labels.update("type::bug", {"new_name": "type::defect"})
    before = own_labels(gl, "developers")["type::bug"]
    site.reset_counts()

    result = tenantctl(
        "labels",
        "sync",
        "administrators",
        "developers",
        "--rename",
        "type::bug=type::defect",
    )

    assert result.code == 0, result.err
    own = own_labels(gl, "developers")
    assert "type::bug" not in own
    assert own["type::defect"].id == before.id
    issues = gl.groups.get("developers").issues.list(
        labels="type::defect", get_all=True
    )
    assert [issue.title for issue in issues] == ["Login loops on expired session"]
    assert label_requests(site, "POST") == 1  # agent::approved only
    assert label_requests(site, "PUT") == 3  # the rename and 2 colors


def test_prune_keeps_a_used_label_unless_forced(site: Site) -> None:
    gl = site.gl
    add_labels(site, "developers", [("stale", "#999999", "Nobody uses it")])

    plan = tenantctl(
        "labels",
        "sync",
        "administrators",
        "developers",
        "--prune",
        "--dry-run",
        "--output",
        "json",
    )
    pruned = tenantctl("labels", "sync", "administrators", "developers", "--prune")

    assert plan.code == 0, plan.err
    changes = target(as_json(plan), "developers")["changes"]
    assert {
        "action": "delete",
        "kind": "label",
        "target": "stale",
        "old": {"issues": 0, "merge_requests": 0},
    } in changes
    extra = target(as_json(plan), "developers")["extra"]
    assert {
        "name": "frontend",
        "action": "in use",
        "issues": 1,
        "merge_requests": 0,
    } in extra
    assert pruned.code == 0, pruned.err
    own = own_labels(gl, "developers")
    assert "stale" not in own
    assert "frontend" in own
    assert "1 issue and 0 merge requests use it" in pruned.out

    forced = tenantctl(
        "labels", "sync", "administrators", "developers", "--prune", "--force"
    )

    assert forced.code == 0, forced.err
    assert "frontend" not in own_labels(gl, "developers")
    project = gl.projects.get("developers/webapp")
    dark_mode = project.issues.list(get_all=True, search="dark mode")
    assert all("frontend" not in issue.labels for issue in dark_mode)


def test_a_label_differing_only_in_case_is_another_label(site: Site) -> None:
    add_labels(site, "administrators", [("bug", "#FF0000", "Broken")])
    add_labels(site, "developers", [("Bug", "#FF0000", "Broken")])

    check = tenantctl("labels", "diff", "administrators", "developers")
    result = tenantctl("labels", "sync", "administrators", "developers")

    assert check.code == 3
    assert "'Bug' differs from the source's 'bug' only in case" in check.out
    assert result.code == 0, result.err
    # GitLab titles are case-sensitive: both labels now exist side by side.
    own = own_labels(site.gl, "developers")
    assert {"Bug", "bug"} <= set(own)


def test_a_case_twin_is_renamed_in_place_when_asked(site: Site) -> None:
    add_labels(site, "administrators", [("bug", "#FF0000", "Broken")])
    new_group(site, "qa")
    add_labels(site, "qa", [("Bug", "#ff0000", "Broken")])
    before = own_labels(site.gl, "qa")["Bug"].id

    result = tenantctl("labels", "sync", "administrators", "qa", "--rename", "Bug=bug")

    assert result.code == 0, result.err
    own = own_labels(site.gl, "qa")
    assert "Bug" not in own
    assert own["bug"].id == before


def test_a_second_sync_changes_nothing(site: Site) -> None:
    first = tenantctl("labels", "sync", "administrators", "--all-tenants")
    site.reset_counts()
    second = tenantctl(
        "labels", "sync", "administrators", "--all-tenants", "--output", "json"
    )
    check = tenantctl("labels", "diff", "administrators", "--all-tenants")

    assert first.code == 0, first.err
    assert second.code == 0, second.err
    assert as_json(second)["summary"]["writes"] == 0
    assert site.writes() == {}
    assert check.code == 0, check.out
    assert "developers: in sync, 1 extra kept" in check.out
    devs = own_labels(site.gl, "developers")
    admins = own_labels(site.gl, "administrators")
    assert {n: (lb.color, lb.description) for n, lb in admins.items()} == {
        n: (lb.color, lb.description) for n, lb in devs.items() if n != "frontend"
    }


# -- failures, scopes, output ------------------------------------------------------


def test_a_failing_target_is_reported_and_the_others_still_sync(site: Site) -> None:
    new_group(site, "qa")
    site.sandbox.gitlab.faults.append(
        Fault(method="POST", path="/groups/qa/labels", status=403, times=0)
    )

    result = tenantctl(
        "labels", "sync", "administrators", "qa", "developers", "nosuchgroup"
    )

    assert result.code == 1
    assert "agent::approved" in own_labels(site.gl, "developers")
    assert own_labels(site.gl, "qa") == {}
    assert "qa: GitLab: creating label" in result.err
    assert "403" in result.err
    assert "nosuchgroup: GitLab: listing labels of group nosuchgroup failed: 404" in (
        result.err
    )


def test_two_labels_of_one_scope_where_the_source_has_one(site: Site) -> None:
    add_labels(site, "administrators", [("kind::bug", "#FF0000", "")])
    add_labels(
        site, "developers", [("kind::bug", "#FF0000", ""), ("kind::Bug", "#FF0000", "")]
    )

    result = tenantctl("labels", "diff", "administrators", "developers")

    assert result.code == 3
    assert (
        "scope 'kind': developers has 2 labels (kind::Bug, kind::bug) where the "
        "source has 1 (kind::bug)"
    ) in result.out


def test_diff_json_lists_field_by_field_changes(site: Site) -> None:
    result = tenantctl(
        "labels", "diff", "administrators", "developers", "--output", "json"
    )

    assert result.code == 3
    doc = as_json(result)
    devs = target(doc, "developers")
    assert devs["status"] == "differs"
    assert {
        "action": "update",
        "kind": "label",
        "target": "priority::high",
        "old": {"color": "#FF0000"},
        "new": {"color": "#E24329"},
    } in devs["changes"]
    assert {"name": "frontend", "action": "kept"} in devs["extra"]
    assert doc["summary"]["differ"] == 1
    assert site.env["GITLAB_TOKEN"] not in result.out
    assert own_labels(site.gl, "developers")["priority::high"].color == "#FF0000"


def test_titles_that_need_encoding_are_updated_and_deleted(site: Site) -> None:
    odd = "review: 50%/done? #1"
    add_labels(site, "administrators", [(odd, "#00FF00", "odd")])
    add_labels(
        site,
        "developers",
        [(odd, "#000000", "odd"), ("stale & gone/old %2F", "#111111", "")],
    )

    result = tenantctl("labels", "sync", "administrators", "developers", "--prune")

    assert result.code == 0, result.err
    own = own_labels(site.gl, "developers")
    assert own[odd].color == "#00FF00"
    assert "stale & gone/old %2F" not in own


def test_export_then_sync_from_the_file(site: Site) -> None:
    exported = tenantctl("labels", "export", "administrators", "--file", "labels.yml")
    data = yaml.safe_load(Path("labels.yml").read_text())
    data["renames"] = [{"from": "comp:Dashboard", "to": "comp:Board"}]
    for label in data["labels"]:
        if label["name"] == "comp:Dashboard":
            label["name"] = "comp:Board"
    Path("labels.yml").write_text(yaml.safe_dump(data))
    before = own_labels(site.gl, "developers")["comp:Dashboard"].id

    result = tenantctl("labels", "sync", "--from-file", "labels.yml", "--all-tenants")

    assert exported.code == 0, exported.err
    assert data["source"] == "administrators"
    assert len(data["labels"]) == 30
    assert result.code == 0, result.err
    devs = own_labels(site.gl, "developers")
    assert devs["comp:Board"].id == before
    assert devs["comp:Board"].color == "#7F8C8D"
    # The template names its source group, so --all-tenants leaves it out.
    assert "comp:Dashboard" in own_labels(site.gl, "administrators")


def test_all_tenants_are_the_top_level_groups_but_the_source(site: Site) -> None:
    new_group(site, "qa")
    new_group(site, "mobile", parent="developers")

    result = tenantctl(
        "labels", "diff", "administrators", "--all-tenants", "--output", "json"
    )

    assert [t["target"] for t in as_json(result)["targets"]] == ["developers", "qa"]
    assert own_labels(site.gl, "developers/mobile") == {}


def test_include_inherited_copies_the_sources_parents_labels(site: Site) -> None:
    new_group(site, "mobile", parent="developers")
    add_labels(site, "developers/mobile", [("ios", "#000000", "iPhone")])
    new_group(site, "qa")

    plain = tenantctl("labels", "diff", "developers/mobile", "qa", "--output", "json")
    result = tenantctl(
        "labels", "sync", "developers/mobile", "qa", "--include-inherited"
    )

    assert [c["target"] for c in target(as_json(plain), "qa")["changes"]] == ["ios"]
    assert result.code == 0, result.err
    assert len(own_labels(site.gl, "qa")) == 31


def test_bad_usage_exits_2_and_writes_nothing(site: Site) -> None:
    Path("bad.yml").write_text("labels:\n  - name: x\n    color: reddish\n")
    cases = [
        ("labels", "sync", "administrators", "developers", "--force"),
        ("labels", "sync", "administrators", "developers", "--rename", "a=nope"),
        ("labels", "sync", "administrators", "administrators"),
        ("labels", "sync", "administrators"),
        ("labels", "sync", "--from-file", "bad.yml", "developers"),
        ("labels", "sync", "administrators", "developers", "--rename", "novalue"),
    ]
    site.reset_counts()

    results = [tenantctl(*args) for args in cases]

    assert [r.code for r in results] == [2] * len(cases)
    assert "bad.yml: 1 problem in the label template" in results[4].err
    assert "line 3, labels.0.color" in results[4].err
    assert site.writes() == {}


def test_onboarding_step_5_is_a_one_target_sync(site: Site) -> None:
    Path("mobile.yml").write_text(
        "tenant: mobile\ntier: standard\nparent: developers\n"
        "labels:\n  from: administrators\n"
    )

    planned = tenantctl(
        "onboard", "--playbook", "mobile.yml", "--dry-run", "--output", "json"
    )
    applied = tenantctl("onboard", "--playbook", "mobile.yml", "--yes")

    step = next(s for s in as_json(planned)["steps"] if s["name"] == "labels")
    # The parent's labels will be inherited: only the one it lacks is created.
    assert [c["target"] for c in step["changes"]] == ["agent::approved"]
    assert any(
        "'priority::high' is inherited from developers" in w for w in step["warnings"]
    )
    assert applied.code == 0, applied.err
    assert set(own_labels(site.gl, "developers/mobile")) == {"agent::approved"}
