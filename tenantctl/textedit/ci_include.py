"""Add and remove a tenant's `include:` entry in the pipeline's .gitlab-ci.yml.

Each tenant has one entry in the top-level `include:` block list::

    include:
      - local: '.gitlab-ci/groups/developers.yml'
        rules:
          - if: $CI_GROUP == "developers"

The file belongs to the pipeline's owners, so an edit adds or removes only
the lines of that entry (or of its rule) and keeps every other byte. The
YAML parser is used to find the entries and to check the result; the text
is never re-dumped.

Shapes handled: `include:` as a block list whose items may be mappings
(`local:`, `project:`, `template:`, ...) or plain strings; no `include:` at
all, in which case a new `include:` block is appended at the END of the file
(appending never separates a leading comment from the key it documents).
Shapes refused with EditError: `include:` as a string, a flow list `[...]`,
a mapping or empty; a top level that is not a block mapping; a document
end marker `...` when a new `include:` block would be appended; an existing
entry for the group, lacking its rule, written as a plain string or a flow
mapping `{...}`, or with `rules` that are not a block list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tenantctl.errors import EditError
from tenantctl.textedit import (
    BlockItem,
    check_group_name,
    delete_lines,
    insert_lines,
    load_yaml,
    newline_of,
    seq_item,
    split_lines,
)

_WHAT = ".gitlab-ci.yml"
_DOCUMENT_END = re.compile(r"\.\.\.(?:[ \t#\r\n]|$)")
_BLOCK_HINT = (
    "convert `include:` to a block list, one `- local: ...` item per line, "
    "then run again"
)


@dataclass(frozen=True)
class IncludeEntry:
    """A tenant's entry in `include:`; lines are 1-based and inclusive."""

    group: str
    local: str
    first_line: int
    last_line: int
    has_rule: bool
    is_string: bool


@dataclass(frozen=True)
class _Style:
    """How the owners write entries: dash prefix, quoting, rule indentation."""

    prefix: str = "- "
    local_quote: str = "'"
    rules_offset: int = 2
    rule_prefix: str = "- "
    rule_quote: str = ""


@dataclass(frozen=True)
class _Found:
    """A matching entry with its parsed node and its place in the text."""

    node: Any
    block: BlockItem


def group_file_path(group: str) -> str:
    """Return the path of the group's override file in the pipeline project."""
    return f".gitlab-ci/groups/{group}.yml"


def find_include(text: str, group: str) -> IncludeEntry | None:
    """Return the group's first include entry, or None if it has none."""
    check_group_name(group)
    lines = split_lines(text)
    _, seq = _parse(text)
    found = _find(lines, seq, group)
    if not found:
        return None
    return _describe(found[0], group)


def add_include(text: str, group: str) -> str:
    """Return `text` with an include entry for `group`, differing only by it.

    The text comes back identical when the entry and its rule are there
    already; an entry without the rule gets only the rule line added.
    """
    check_group_name(group)
    lines = split_lines(text)
    root, seq = _parse(text)
    found = _find(lines, seq, group)
    if found:
        entry = _describe(found[0], group)
        if entry.has_rule:
            return text
        _require_block_entry(entry, found[0].node)
        _add_rule(lines, found[0], _style_of(lines, seq), group, newline_of(text))
    elif seq is None:
        _append_include_block(lines, root, group, newline_of(text))
    else:
        _append_entry(lines, seq, group, newline_of(text))
    edited = "".join(lines)
    _verify(text, edited, group, present=True)
    return edited


def remove_include(text: str, group: str) -> str:
    """Return `text` without the group's include entries, differing only by them.

    The text comes back identical when there is no such entry. When the
    group's entries were the only ones, the `include:` key goes too, since
    an empty `include:` is not valid for GitLab.
    """
    check_group_name(group)
    lines = split_lines(text)
    root, seq = _parse(text)
    found = _find(lines, seq, group)
    if not found:
        return text
    if len(found) == len(seq):
        key_line = root.lc.key("include")[0]
        delete_lines(lines, key_line, found[-1].block.last)
    else:
        for item in reversed(found):
            delete_lines(lines, item.block.first, item.block.last)
    edited = "".join(lines)
    _verify(text, edited, group, present=False)
    return edited


def _parse(text: str) -> tuple[Any, Any]:
    """Return the top-level mapping (or None) and the `include:` block list.

    Raise EditError for any shape other than a block list of entries.
    """
    root = load_yaml(text, _WHAT)
    if root is None:
        return None, None
    if not isinstance(root, CommentedMap):
        raise EditError(
            f"{_WHAT}: expected a mapping of keys at the top level (line 1)",
            hint="this does not look like a GitLab CI file",
        )
    if "include" not in root:
        return root, None
    seq = root["include"]
    line = root.lc.key("include")[0] + 1
    if not isinstance(seq, CommentedSeq) or seq.fa.flow_style() or not seq:
        raise EditError(
            f"{_WHAT}: expected `include:` at line {line} to be a block list "
            f"of entries, found {_shape_name(seq)}; this shape is not supported",
            hint=_BLOCK_HINT,
        )
    return root, seq


def _shape_name(value: Any) -> str:
    """Name the YAML shape of `value` for an error message."""
    if value is None:
        return "no value"
    if isinstance(value, CommentedSeq):
        return "a flow list [...]" if value else "an empty list"
    if isinstance(value, CommentedMap):
        return "a mapping"
    return "a single string" if isinstance(value, str) else "a scalar"


def _find(lines: list[str], seq: Any, group: str) -> list[_Found]:
    """Return the entries of `seq` that include the group's file, in order."""
    if seq is None:
        return []
    path = group_file_path(group)
    found: list[_Found] = []
    for index, node in enumerate(seq):
        local = _local_of(node)
        if local is not None and _normalise(local) == path:
            block = seq_item(lines, seq, index, _WHAT)
            found.append(_Found(node=node, block=block))
    return found


def _local_of(node: Any) -> str | None:
    """Return the local path an entry includes, or None for other kinds."""
    if isinstance(node, str):
        return node
    if isinstance(node, CommentedMap) and isinstance(node.get("local"), str):
        return str(node["local"])
    return None


def _normalise(path: str) -> str:
    """Drop the leading '/' or './' that GitLab ignores in local paths."""
    path = path.strip()
    while path.startswith(("/", "./")):
        path = path[1:] if path.startswith("/") else path[2:]
    return path


def _describe(found: _Found, group: str) -> IncludeEntry:
    """Turn a located entry into the public IncludeEntry."""
    node = found.node
    return IncludeEntry(
        group=group,
        local=_local_of(node) or "",
        first_line=found.block.first + 1,
        last_line=found.block.last + 1,
        has_rule=_has_rule(node, group),
        is_string=isinstance(node, str),
    )


def _rule_pattern(group: str) -> re.Pattern[str]:
    """Match the `if:` condition that selects the group."""
    name = re.escape(group)
    return re.compile(rf"\s*\$(?:CI_GROUP|\{{CI_GROUP\}})\s*==\s*(['\"]){name}\1\s*")


def _has_rule(node: Any, group: str) -> bool:
    """Tell whether an entry's rules contain `if: $CI_GROUP == "<group>"`."""
    if not isinstance(node, CommentedMap):
        return False
    rules = node.get("rules")
    if not isinstance(rules, CommentedSeq):
        return False
    pattern = _rule_pattern(group)
    return any(
        isinstance(rule, CommentedMap)
        and isinstance(rule.get("if"), str)
        and pattern.fullmatch(rule["if"]) is not None
        for rule in rules
    )


def _require_block_entry(entry: IncludeEntry, node: Any) -> None:
    """Refuse to rewrite an entry that is a plain string or a flow mapping."""
    if isinstance(node, CommentedMap) and node.fa.flow_style():
        raise EditError(
            f"{_WHAT}: expected the include entry for {entry.group!r} at line "
            f"{entry.first_line} to be a block mapping, found a flow mapping "
            "{...}; this shape is not supported",
            hint="write the entry as `local:` and `rules:` lines, then run again",
        )
    if entry.is_string:
        raise EditError(
            f"{_WHAT}: expected the include entry for {entry.group!r} at line "
            f"{entry.first_line} to be a `local:` mapping with `rules`, "
            "found a plain string",
            hint=(
                f"replace it with `- local: '{entry.local}'` and a rule "
                f'`- if: $CI_GROUP == "{entry.group}"`, or delete it'
            ),
        )


def _quote_at(lines: list[str], position: tuple[int, int]) -> str:
    """Return the quote character a scalar starts with, '' if it is plain."""
    line, col = position
    char = lines[line][col : col + 1]
    return char if char in ("'", '"') else ""


def _template(seq: Any) -> int | None:
    """Return the index of the last `local:` mapping entry, a model to copy."""
    for index in range(len(seq) - 1, -1, -1):
        node = seq[index]
        if isinstance(node, CommentedMap) and "local" in node:
            return index
    return None


def _style_of(lines: list[str], seq: Any) -> _Style:
    """Read the owners' style from the last `local:` entry, else the last item."""
    if seq is None:
        return _Style()
    index = _template(seq)
    if index is None:
        last = seq_item(lines, seq, len(seq) - 1, _WHAT)
        return _Style(prefix=last.prefix)
    node = seq[index]
    block = seq_item(lines, seq, index, _WHAT)
    style = _Style(
        prefix=block.prefix,
        local_quote=_quote_at(lines, node.lc.value("local")),
    )
    return _rules_style(lines, node, style)


def _rules_style(lines: list[str], node: Any, style: _Style) -> _Style:
    """Complete `style` with the rule layout of the entry `node`, if it has one."""
    rules = node.get("rules")
    if not isinstance(rules, CommentedSeq) or rules.fa.flow_style() or not rules:
        return style
    first = seq_item(lines, rules, 0, _WHAT)
    quotes = [
        _quote_at(lines, rule.lc.value("if"))
        for rule in rules
        if isinstance(rule, CommentedMap) and "if" in rule
    ]
    return _Style(
        prefix=style.prefix,
        local_quote=style.local_quote,
        rules_offset=first.dash - node.lc.col,
        rule_prefix=first.prefix,
        rule_quote=quotes[0] if quotes else style.rule_quote,
    )


def _quote(value: str, quote: str) -> str:
    """Write `value` as a YAML scalar with the given quote ('' for plain)."""
    if quote == '"':
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    return value


def _rule_line(style: _Style, dash: int, group: str) -> str:
    """Return the rule item line selecting `group`, its dash at column `dash`."""
    condition = _quote(f'$CI_GROUP == "{group}"', style.rule_quote)
    return " " * dash + style.rule_prefix + "if: " + condition


def _entry_lines(style: _Style, dash: int, group: str) -> list[str]:
    """Return the lines of a new entry for `group`, its dash at column `dash`."""
    key = dash + len(style.prefix)
    local = _quote(group_file_path(group), style.local_quote)
    return [
        " " * dash + style.prefix + "local: " + local,
        " " * key + "rules:",
        _rule_line(style, key + style.rules_offset, group),
    ]


def _append_entry(lines: list[str], seq: Any, group: str, newline: str) -> None:
    """Insert the group's entry after the last item of `include:`."""
    last = seq_item(lines, seq, len(seq) - 1, _WHAT)
    style = _style_of(lines, seq)
    insert_lines(lines, last.last + 1, _entry_lines(style, last.dash, group), newline)


def _append_include_block(
    lines: list[str], root: Any, group: str, newline: str
) -> None:
    """Append a new top-level `include:` block holding the group's entry."""
    ends = [n for n, line in enumerate(lines, 1) if _DOCUMENT_END.match(line)]
    if ends:
        raise EditError(
            f"{_WHAT}: expected no document end marker '...' (line {ends[0]}) "
            "when appending a new `include:` block at the end of the file",
            hint="add an `include:` block by hand, then run again",
        )
    if root is not None and root.fa.flow_style():
        raise EditError(
            f"{_WHAT}: expected a block mapping at the top level, found a "
            "flow mapping {...}; this shape is not supported",
            hint="write the top level as `key: value` lines",
        )
    new = ["include:", *_entry_lines(_Style(), 2, group)]
    insert_lines(lines, len(lines), new, newline)


def _add_rule(
    lines: list[str], found: _Found, style: _Style, group: str, newline: str
) -> None:
    """Add the group's rule to an existing entry that lacks it."""
    node = found.node
    if "rules" not in node:
        key = node.lc.col
        new = [" " * key + "rules:", _rule_line(style, key + style.rules_offset, group)]
        insert_lines(lines, found.block.last + 1, new, newline)
        return
    rules = node["rules"]
    if not isinstance(rules, CommentedSeq) or rules.fa.flow_style() or not rules:
        raise EditError(
            f"{_WHAT}: expected `rules:` of the include entry at line "
            f"{found.block.first + 1} to be a block list, found "
            f"{_shape_name(rules)}; this shape is not supported",
            hint="write the rules as `- if: ...` lines, then run again",
        )
    own = _rules_style(lines, node, style)
    last = seq_item(lines, rules, len(rules) - 1, _WHAT)
    insert_lines(lines, last.last + 1, [_rule_line(own, last.dash, group)], newline)


def _others(root: Any, seq: Any, group: str) -> tuple[dict[Any, Any], list[Any]]:
    """Return what an edit for `group` must not change: other keys and entries."""
    rest = {key: value for key, value in (root or {}).items() if key != "include"}
    path = group_file_path(group)
    entries = [
        node for node in (seq or []) if _normalise(_local_of(node) or "") != path
    ]
    return rest, entries


def _verify(before: str, after: str, group: str, *, present: bool) -> None:
    """Check by parsing that the edit changed the group's entry and nothing else."""
    try:
        root, seq = _parse(after)
    except EditError as exc:
        raise _bad_edit(group, exc.message) from exc
    old_root, old_seq = _parse(before)
    entry = find_include(after, group)
    if present and (entry is None or not entry.has_rule):
        raise _bad_edit(group, "the entry or its rule is missing afterwards")
    if not present and entry is not None:
        raise _bad_edit(group, f"an entry remains at line {entry.first_line}")
    if _others(root, seq, group) != _others(old_root, old_seq, group):
        raise _bad_edit(group, "other keys or entries would change")


def _bad_edit(group: str, reason: str) -> EditError:
    """Build the error for an edit that did not come out as intended."""
    return EditError(
        f"{_WHAT}: editing the include entry of {group!r} went wrong ({reason}); "
        "nothing was written",
        hint="edit the file by hand and report the file's layout as a bug",
    )
