"""The pure parts of label replication: colors, scopes, renames, templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantctl.errors import InputError
from tenantctl.labels import (
    Label,
    Source,
    check_renames,
    gitlab_color,
    load_template,
    normalise_color,
    parse_renames,
    scope_of,
    template_text,
    valid_color,
)


@pytest.mark.parametrize(
    ("color", "normal"),
    [
        ("#FFF", "#FFFFFF"),
        ("#ffffff", "#FFFFFF"),
        ("white", "#FFFFFF"),
        (" White ", "#FFFFFF"),
        ("DarkSlateGray", "#2F4F4F"),
        ("#aBc", "#AABBCC"),
        ("not-a-color", "not-a-color"),
    ],
)
def test_colors_normalise_to_upper_case_long_hex(color: str, normal: str) -> None:
    assert normalise_color(color) == normal


def test_gitlab_keeps_hex_as_sent_and_stores_names_as_hex() -> None:
    assert gitlab_color("#abc") == "#abc"
    assert gitlab_color("red") == "#FF0000"
    assert valid_color("#abc") and valid_color("papayawhip")
    assert not valid_color("#abcd") and not valid_color("reddish")


def test_labels_differ_field_by_field() -> None:
    have = Label("bug", "#fff", "Broken")
    want = Label("bug", "white", "Something is broken")

    assert have.differences(want) == {"description": ("Broken", "Something is broken")}


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("workflow::triage", "workflow"),
        ("a::b::c", "a::b"),
        ("comp:Flat Export", None),
        ("bug", None),
    ],
)
def test_scope_ends_at_the_last_double_colon(name: str, scope: str | None) -> None:
    assert scope_of(name) == scope


def test_renames_parse_at_the_first_equals_sign() -> None:
    assert parse_renames(["bug=type::bug", "a=b=c"]) == {"bug": "type::bug", "a": "b=c"}
    with pytest.raises(InputError):
        parse_renames(["bug"])
    with pytest.raises(InputError):
        parse_renames(["a=b", "a=c"])


def test_renames_must_lead_from_a_name_the_source_lacks_to_one_it_has() -> None:
    labels = {"type::bug": Label("type::bug", "#F00"), "bug": Label("bug", "#F00")}

    check_renames(Source("group x", labels, renames={"defect": "type::bug"}))
    with pytest.raises(InputError, match="not a label of the group x"):
        check_renames(Source("group x", labels, renames={"defect": "missing"}))
    with pytest.raises(InputError, match="still has 'bug'"):
        check_renames(Source("group x", labels, renames={"bug": "type::bug"}))


def test_a_template_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "labels.yml"
    labels = [Label("workflow::in review", "#8E44AD", "Waiting: for review")]
    path.write_text(template_text("administrators", labels))

    source = load_template(path)

    assert source.group == "administrators"
    assert list(source.labels.values()) == labels
    assert source.renames == {}


def test_a_template_naming_a_label_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.yml"
    path.write_text(
        "labels:\n  - {name: bug, color: red}\n  - {name: bug, color: blue}\n"
    )

    with pytest.raises(InputError, match=r"labels\.yml:3: label .bug. is listed twice"):
        load_template(path)
