"""Tests for the format-keeping edits of the dashboard's allow-list."""

from __future__ import annotations

import difflib

import pytest

from tenantctl.errors import EditError
from tenantctl.textedit import allowlist
from tenantctl.textedit.allowlist import add_entry, read_entries, remove_entry

JS = """\
// Which GitLab groups may use the dashboard.
const allowed = [
  'administrators', // strict tier
  // 'legacy',  retired in 2023
  'developers',
];

const pattern = /allowed = \\[/;
const label = `allowed = [${allowed.length}]`;

export function groupsOf(claims) {
  return (claims.groups || []).filter((g) => allowed.includes(g));
}
"""

TS = """\
import type { Claims } from './claims';

export const allowed: readonly string[] = [
  "administrators",
  "developers"
];
"""

JS_IN_FUNCTION = """\
let allowed;

function configure() {
  allowed = ['administrators', 'developers'];
}
"""

JSON_MULTI = """\
{
  "title": "Platform dashboard",
  "dashboard": {
    "allowed": [
      "administrators",
      "developers"
    ],
    "refresh": 30
  }
}
"""

JSON_ONE_LINE = '{"dashboard": {"allowed": ["administrators", "developers"]}}\n'

YAML_BLOCK = """\
# Dashboard settings; owned by the dashboard team.
dashboard:
  allowed:
    - administrators   # strict tier
    - 'developers'
  refresh: 30
"""

YAML_FLOW = "dashboard:\n  allowed: [administrators, developers]  # tenants\n"

ROUND_TRIP = [
    (JS, "js", "allowed"),
    (TS, "js", "allowed"),
    (JS_IN_FUNCTION, "js", "allowed"),
    (JSON_MULTI, "json", "dashboard.allowed"),
    (JSON_ONE_LINE, "json", "dashboard.allowed"),
    (YAML_BLOCK, "yaml", "dashboard.allowed"),
    (YAML_FLOW, "yaml", "dashboard.allowed"),
    (YAML_BLOCK.replace("\n", "\r\n"), "yaml", "dashboard.allowed"),
    (YAML_BLOCK.rstrip("\n").replace("  refresh: 30", ""), "yaml", "dashboard.allowed"),
    (TS.replace("\n", "\r\n"), "js", "allowed"),
    ('{"allowed": []}', "json", "allowed"),
    ("a:\n  b: []\n", "yaml", "a.b"),
    ("const allowed = [\n];\n", "js", "allowed"),
]


def diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """Return the lines removed and the lines added between two texts."""
    lines = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    removed = [line[2:] for line in lines if line.startswith("- ")]
    added = [line[2:] for line in lines if line.startswith("+ ")]
    return removed, added


def test_read_js_skips_comments_regexes_and_templates() -> None:
    assert read_entries(JS, "js", "allowed") == ["administrators", "developers"]


def test_add_js_keeps_trailing_comma_and_comments() -> None:
    edited = add_entry(JS, "js", "allowed", "contractors")

    assert edited == JS.replace(
        "  'developers',\n", "  'developers',\n  'contractors',\n"
    )


def test_add_ts_with_type_annotation_moves_the_comma() -> None:
    edited = add_entry(TS, "js", "allowed", "contractors")

    assert edited == TS.replace(
        '  "developers"\n', '  "developers",\n  "contractors"\n'
    )
    assert diff(TS, edited) == (
        ['  "developers"'],
        ['  "developers",', '  "contractors"'],
    )


def test_add_js_one_line_assignment_inside_a_function() -> None:
    edited = add_entry(JS_IN_FUNCTION, "js", "allowed", "contractors")

    assert "allowed = ['administrators', 'developers', 'contractors'];" in edited
    assert diff(JS_IN_FUNCTION, edited)[0] == [
        "  allowed = ['administrators', 'developers'];"
    ]


def test_add_js_one_line_with_trailing_comma() -> None:
    text = 'var allowed = ["a", "b",];'

    assert add_entry(text, "js", "allowed", "c") == 'var allowed = ["a", "b", "c",];'


def test_remove_js_item_with_its_comment_line() -> None:
    edited = remove_entry(JS, "js", "allowed", "administrators")

    assert diff(JS, edited) == (["  'administrators', // strict tier"], [])


def test_remove_js_from_one_line_list() -> None:
    edited = remove_entry(JS_IN_FUNCTION, "js", "allowed", "administrators")

    assert "  allowed = ['developers'];\n" in edited


def test_read_js_decodes_escapes() -> None:
    text = "const allowed = ['it\\'s', \"tab\\there\", 'caf\\u00e9'];"

    assert read_entries(text, "js", "allowed") == ["it's", "tab\there", "café"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("const other = ['a'];", "found no such array literal"),
        ("const allowed = new Set(['a']);", "found no such array literal"),
        ("// const allowed = ['a'];\n", "found no such array literal"),
        ("const allowed = ['a', other];", "expected a quoted string at line 1"),
        ("const allowed = ['a', ...more];", "expected a quoted string"),
        ("const allowed = [`a`];", "expected a quoted string"),
        ("let allowed = ['a'];\nallowed = ['b'];", r"found several \(lines 1, 2\)"),
        ("const allowed = ['a',\n  'b'", "expected a string, ',' or ']' at line 2"),
    ],
)
def test_js_shapes_that_are_refused(text: str, message: str) -> None:
    with pytest.raises(EditError, match=message) as err:
        add_entry(text, "js", "allowed", "contractors")

    assert "allow-list 'allowed' (js)" in err.value.message


def test_add_json_multi_line_fixes_the_comma() -> None:
    edited = add_entry(JSON_MULTI, "json", "dashboard.allowed", "contractors")

    assert edited == JSON_MULTI.replace(
        '      "developers"\n', '      "developers",\n      "contractors"\n'
    )


def test_add_json_single_line() -> None:
    edited = add_entry(JSON_ONE_LINE, "json", "dashboard.allowed", "contractors")

    assert edited == JSON_ONE_LINE.replace(
        '"developers"]', '"developers", "contractors"]'
    )


def test_add_json_to_an_empty_list() -> None:
    assert add_entry('{"allowed": []}', "json", "allowed", "a") == '{"allowed": ["a"]}'


def test_remove_json_last_item_of_multi_line_list() -> None:
    edited = remove_entry(JSON_MULTI, "json", "dashboard.allowed", "developers")

    assert edited == JSON_MULTI.replace(
        '      "administrators",\n      "developers"\n', '      "administrators"\n'
    )


@pytest.mark.parametrize(
    ("text", "locator", "message"),
    [
        ('{"dashboard": {}}', "dashboard.allowed", "key 'allowed' not found in dash"),
        ('{"dashboard": []}', "dashboard.allowed", "expected a mapping at dashboard"),
        ('{"allowed": "a,b"}', "allowed", "expected a list of strings, found str"),
        ('{"allowed": ["a", 1]}', "allowed", "item 2 is int 1"),
        ('{"allowed": [\n"a",]}', "allowed", "cannot parse JSON at line 2"),
        ('{"allowed": [], "allowed": []}', "allowed", "appears twice"),
        ('{"allowed": []}', "dashboard..allowed", "expected a dotted key path"),
    ],
)
def test_json_shapes_that_are_refused(text: str, locator: str, message: str) -> None:
    with pytest.raises(EditError, match=message) as err:
        add_entry(text, "json", locator, "contractors")

    assert f"allow-list {locator!r} (json)" in err.value.message


def test_add_yaml_block_copies_indent_and_quotes() -> None:
    edited = add_entry(YAML_BLOCK, "yaml", "dashboard.allowed", "contractors")

    assert diff(YAML_BLOCK, edited) == ([], ["    - 'contractors'"])
    assert "    - 'developers'\n    - 'contractors'\n  refresh: 30\n" in edited


def test_add_yaml_flow_list() -> None:
    edited = add_entry(YAML_FLOW, "yaml", "dashboard.allowed", "contractors")

    assert edited == YAML_FLOW.replace("developers]", "developers, contractors]")


def test_add_yaml_quotes_a_name_that_would_not_read_as_a_string() -> None:
    text = "allowed: [a]\n"

    assert add_entry(text, "yaml", "allowed", "true") == "allowed: [a, 'true']\n"
    assert add_entry(text, "yaml", "allowed", "2024") == "allowed: [a, '2024']\n"


def test_add_yaml_keeps_crlf_and_missing_final_newline() -> None:
    text = "allowed:\r\n  - a\r\n  - b"

    edited = add_entry(text, "yaml", "allowed", "c")

    assert edited == "allowed:\r\n  - a\r\n  - b\r\n  - c"


def test_remove_yaml_block_item_keeps_the_comment_of_another() -> None:
    edited = remove_entry(YAML_BLOCK, "yaml", "dashboard.allowed", "developers")

    assert diff(YAML_BLOCK, edited) == (["    - 'developers'"], [])


def test_remove_yaml_last_block_item_leaves_an_empty_list() -> None:
    text = "dashboard:\n  allowed:  # who\n    - developers\n  refresh: 30\n"

    edited = remove_entry(text, "yaml", "dashboard.allowed", "developers")

    assert edited == "dashboard:\n  allowed: []  # who\n  refresh: 30\n"
    assert read_entries(edited, "yaml", "dashboard.allowed") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dashboard:\n  allowed: administrators\n", "found str 'administrators'"),
        ("dashboard:\n  allowed:\n    - 1\n", r"\(line 3\), item 1 is int 1"),
        ("dashboard: {}\n", "key 'allowed' not found in dashboard"),
        ("dashboard:\n  allowed: [a\n", "cannot parse YAML at line 3"),
    ],
)
def test_yaml_shapes_that_are_refused(text: str, message: str) -> None:
    with pytest.raises(EditError, match=message) as err:
        add_entry(text, "yaml", "dashboard.allowed", "contractors")

    assert "allow-list 'dashboard.allowed' (yaml)" in err.value.message


@pytest.mark.parametrize(("text", "fmt", "locator"), ROUND_TRIP)
def test_remove_undoes_add(text: str, fmt: str, locator: str) -> None:
    edited = add_entry(text, fmt, locator, "contractors")

    assert read_entries(edited, fmt, locator)[-1] == "contractors"
    assert remove_entry(edited, fmt, locator, "contractors") == text


@pytest.mark.parametrize(("text", "fmt", "locator"), ROUND_TRIP)
def test_add_present_name_returns_the_identical_string(
    text: str, fmt: str, locator: str
) -> None:
    edited = add_entry(text, fmt, locator, "contractors")

    assert add_entry(edited, fmt, locator, "contractors") is edited
    assert remove_entry(text, fmt, locator, "contractors") is text


def test_remove_drops_every_duplicate() -> None:
    text = "allowed = ['a', 'b', 'a'];"

    assert remove_entry(text, "js", "allowed", "a") == "allowed = ['b'];"


def test_unknown_format_names_format_and_locator() -> None:
    with pytest.raises(EditError, match=r"allow-list 'allowed'.*unknown format 'toml'"):
        read_entries("allowed = []", "toml", "allowed")


def test_names_needing_escapes_are_refused() -> None:
    with pytest.raises(EditError, match="cannot be written"):
        add_entry(JSON_ONE_LINE, "json", "dashboard.allowed", 'x"y')


def test_an_edit_that_touches_other_text_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def sloppy(text: str, flow: object, literal: str, where: str) -> str:
        return text.replace('"refresh": 30', '"refresh": 31').replace(
            '"developers"\n', f'"developers",\n      {literal}\n'
        )

    monkeypatch.setattr(allowlist, "_flow_add", sloppy)

    with pytest.raises(EditError, match="text outside the list would change"):
        add_entry(JSON_MULTI, "json", "dashboard.allowed", "contractors")
