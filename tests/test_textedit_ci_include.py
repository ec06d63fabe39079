"""Tests for the format-keeping edits of `include:` in .gitlab-ci.yml."""

from __future__ import annotations

import difflib

import pytest

from tenantctl.errors import EditError
from tenantctl.textedit import ci_include
from tenantctl.textedit.ci_include import (
    IncludeEntry,
    add_include,
    find_include,
    group_file_path,
    remove_include,
)

# The example of platform.md, verbatim.
PLATFORM = """\
include:
  - local: '.gitlab-ci/groups/administrators.yml'
    rules:
      - if: $CI_GROUP == "administrators"
      - if: $CI_GROUP == null        # the default tenant
  - local: '.gitlab-ci/groups/developers.yml'
    rules:
      - if: $CI_GROUP == "developers"
"""

CONTRACTORS = """\
  - local: '.gitlab-ci/groups/contractors.yml'
    rules:
      - if: $CI_GROUP == "contractors"
"""

OWNED = """\
# Shared pipeline of the platform. Owners: the platform team.
stages: [plan, build, deploy]

include:
  # strict tier
  - local: '.gitlab-ci/groups/administrators.yml'
    rules:
      - if: $CI_GROUP == "administrators"
      - if: $CI_GROUP == null        # the default tenant

  # standard tier
  - local: '.gitlab-ci/groups/developers.yml'
    rules:
      - if: $CI_GROUP == "developers"

default:
  resource_group: issue-$ISSUE_IID
"""

COMPACT = """\
include:
- local: ".gitlab-ci/groups/administrators.yml"
  rules:
  - if: '$CI_GROUP == "administrators"'
variables:
  X: "1"
"""

MIXED = """\
include:
  - 'templates/base.yml'
  - local: '.gitlab-ci/groups/developers.yml'
    rules:
      - if: $CI_GROUP == "developers"
  - project: administrators/cicd
    file: templates/deploy.yml
  - template: Security/SAST.gitlab-ci.yml
"""

NO_INCLUDE = "stages:\n  - build\n\nbuild:\n  script: make\n"

ROUND_TRIP = {
    "platform": PLATFORM,
    "owned": OWNED,
    "compact": COMPACT,
    "mixed": MIXED,
    "crlf": OWNED.replace("\n", "\r\n"),
    "no final newline": PLATFORM.rstrip("\n"),
    "no include": NO_INCLUDE,
    "empty": "",
}


def diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """Return the lines removed and the lines added between two texts."""
    lines = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    removed = [line[2:] for line in lines if line.startswith("- ")]
    added = [line[2:] for line in lines if line.startswith("+ ")]
    return removed, added


def test_group_file_path() -> None:
    assert group_file_path("contractors") == ".gitlab-ci/groups/contractors.yml"


def test_add_to_the_platform_example_appends_the_entry() -> None:
    assert add_include(PLATFORM, "contractors") == PLATFORM + CONTRACTORS


def test_add_keeps_comments_and_blank_lines_around_the_list() -> None:
    edited = add_include(OWNED, "contractors")

    head, tail = OWNED.split("\ndefault:")
    assert edited == head.rstrip("\n") + "\n" + CONTRACTORS + "\ndefault:" + tail


def test_add_copies_double_quotes_compact_indent_and_quoted_rules() -> None:
    expected = COMPACT.replace(
        "variables:",
        '- local: ".gitlab-ci/groups/contractors.yml"\n'
        "  rules:\n"
        "  - if: '$CI_GROUP == \"contractors\"'\n"
        "variables:",
    )

    assert add_include(COMPACT, "contractors") == expected


def test_add_after_project_and_template_entries() -> None:
    assert add_include(MIXED, "contractors") == MIXED + CONTRACTORS


def test_add_keeps_crlf_line_endings() -> None:
    text = PLATFORM.replace("\n", "\r\n")

    assert add_include(text, "contractors") == text + CONTRACTORS.replace("\n", "\r\n")


def test_add_keeps_a_missing_final_newline() -> None:
    text = PLATFORM.rstrip("\n")

    assert add_include(text, "contractors") == text + "\n" + CONTRACTORS.rstrip()


def test_add_without_include_appends_a_block_at_the_end() -> None:
    expected = NO_INCLUDE + "include:\n" + CONTRACTORS

    assert add_include(NO_INCLUDE, "contractors") == expected
    assert add_include("", "contractors") == "include:\n" + CONTRACTORS


def test_add_present_entry_returns_the_identical_string() -> None:
    edited = add_include(PLATFORM, "contractors")

    assert add_include(edited, "contractors") is edited
    assert add_include(PLATFORM, "developers") is PLATFORM


def test_add_rule_to_an_entry_with_other_rules() -> None:
    text = PLATFORM.replace('"developers"', "null")

    edited = add_include(text, "developers")

    assert diff(text, edited) == ([], ['      - if: $CI_GROUP == "developers"'])
    assert edited.endswith('null\n      - if: $CI_GROUP == "developers"\n')


def test_add_rules_to_an_entry_without_rules() -> None:
    text = "include:\n  - local: '/.gitlab-ci/groups/developers.yml'\nstages: []\n"

    edited = add_include(text, "developers")

    assert edited == (
        "include:\n"
        "  - local: '/.gitlab-ci/groups/developers.yml'\n"
        "    rules:\n"
        '      - if: $CI_GROUP == "developers"\n'
        "stages: []\n"
    )


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_remove_undoes_add(name: str) -> None:
    text = ROUND_TRIP[name]

    assert remove_include(add_include(text, "contractors"), "contractors") == text


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_add_only_adds_lines(name: str) -> None:
    text = ROUND_TRIP[name]

    removed, added = diff(text, add_include(text, "contractors"))

    assert removed == []
    assert any("contractors.yml" in line for line in added)
    assert len(added) == (4 if "include:" in added else 3)


def test_remove_deletes_exactly_the_entry_lines() -> None:
    edited = remove_include(OWNED, "developers")

    removed, added = diff(OWNED, edited)
    assert added == []
    assert removed == [
        "  - local: '.gitlab-ci/groups/developers.yml'",
        "    rules:",
        '      - if: $CI_GROUP == "developers"',
    ]
    assert "  # standard tier\n" in edited


def test_remove_absent_entry_returns_the_identical_string() -> None:
    assert remove_include(PLATFORM, "contractors") is PLATFORM
    assert remove_include(NO_INCLUDE, "contractors") is NO_INCLUDE


def test_remove_a_plain_string_entry() -> None:
    text = "include:\n  - 'templates/base.yml'\n  - ./.gitlab-ci/groups/ops.yml\n"

    assert remove_include(text, "ops") == "include:\n  - 'templates/base.yml'\n"


def test_find_reports_the_span_and_the_rule() -> None:
    entry = find_include(OWNED, "developers")

    assert entry == IncludeEntry(
        group="developers",
        local=".gitlab-ci/groups/developers.yml",
        first_line=12,
        last_line=14,
        has_rule=True,
        is_string=False,
    )
    assert find_include(OWNED, "contractors") is None
    assert find_include(NO_INCLUDE, "developers") is None


def test_find_normalises_the_leading_dot_slash() -> None:
    text = "include:\n  - local: ./.gitlab-ci/groups/ops.yml\n"

    entry = find_include(text, "ops")

    assert entry is not None
    assert (entry.first_line, entry.last_line, entry.has_rule) == (2, 2, False)


def test_add_refuses_to_rewrite_a_plain_string_entry() -> None:
    text = "include:\n  - '.gitlab-ci/groups/ops.yml'\n"

    with pytest.raises(EditError, match=r"line 2 to be a `local:` mapping"):
        add_include(text, "ops")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("include: '.gitlab-ci/base.yml'\n", "a single string"),
        ("include: ['a.yml', 'b.yml']\n", r"a flow list \[\.\.\.\]"),
        ("include:\n  local: a.yml\n", "a mapping"),
        ("include: []\n", "an empty list"),
        ("include:\n", "no value"),
    ],
)
def test_unsupported_include_shapes_are_refused(text: str, found: str) -> None:
    with pytest.raises(EditError, match=f"line 1 to be a block list.*{found}") as err:
        add_include(text, "contractors")

    assert err.value.hint is not None
    assert "block list" in err.value.hint


def test_a_flow_mapping_entry_without_the_rule_is_refused() -> None:
    text = "include:\n  - {local: .gitlab-ci/groups/ops.yml}\n"

    with pytest.raises(EditError, match="line 2 to be a block mapping"):
        add_include(text, "ops")


def test_appending_after_a_document_end_marker_is_refused() -> None:
    with pytest.raises(EditError, match=r"document end marker '\.\.\.' \(line 2\)"):
        add_include("stages: []\r\n...\r\n", "ops")


def test_flow_rules_are_refused() -> None:
    text = "include:\n  - local: .gitlab-ci/groups/ops.yml\n    rules: []\n"

    with pytest.raises(EditError, match="`rules:` of the include entry at line 2"):
        add_include(text, "ops")


def test_a_top_level_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(EditError, match="mapping of keys at the top level"):
        add_include("- a\n- b\n", "contractors")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(EditError, match="cannot parse YAML at line 3"):
        add_include("include:\n  - local: a\n  bad: [\n", "contractors")


@pytest.mark.parametrize("group", ["Contractors", "a b", "", "-x", "x'y", "x:y"])
def test_group_names_needing_escapes_are_refused(group: str) -> None:
    with pytest.raises(EditError, match="cannot be written"):
        add_include(PLATFORM, group)


def test_an_edit_that_loses_the_rule_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def without_rule(style: object, dash: int, group: str) -> list[str]:
        return [" " * dash + f"- local: '{group_file_path(group)}'"]

    monkeypatch.setattr(ci_include, "_entry_lines", without_rule)

    with pytest.raises(EditError, match="the entry or its rule is missing afterwards"):
        add_include(PLATFORM, "contractors")
