"""Add and remove a group name in the dashboard's allow-list.

The allow-list is a list of strings in a file of the dashboard project, in
one of three formats (the site config names it):

- ``yaml``: a block list or flow list ``[a, b]`` at a dotted key path;
- ``json``: an array at a dotted key path, on one line or one item a line;
- ``js`` (JavaScript or TypeScript): an array literal assigned to an
  identifier, ``const allowed: string[] = ['a', 'b'];`` or ``allowed = [...]``.

An edit adds or removes one item and keeps everything else: comments,
order, quote style, indentation, trailing commas, line endings. Parsers
locate the list and check the result; the edit is made on the text.

Shapes refused with EditError: a key path that does not exist or does not
lead to a list of strings; a YAML block list with an item whose dash is on
another line; a JS identifier assigned an array more than once, or assigned
something that is not an array literal (``new Set([...])``); JS items that
are not plain string literals (template literals, spreads, variables);
member assignments such as ``this.allowed = [...]`` are not matched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
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

FORMATS = ("yaml", "json", "js")

_BREAK = re.compile(r"\r\n|\r|\n")
_JS_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_YAML_PLAIN = re.compile(r"[a-z][a-z0-9_.-]*")
_YAML_PLAIN_ITEM = re.compile(r"[^,\]\r\n]*?(?=\s+#|\s*[,\]\r\n])")
_JSON_SCALAR = re.compile(r"[^\s,\]}]+")
_REGEX_FLAGS = re.compile(r"[a-z]*")
_YAML_NOT_PLAIN = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
)


@dataclass(frozen=True)
class _Syntax:
    """The lexical rules of a bracketed list in one format."""

    fmt: str
    quotes: str
    line_comment: str | None
    block_comments: bool
    plain: bool
    default_quote: str


_JSON = _Syntax("json", '"', None, False, False, '"')
_JS = _Syntax("js", "'\"", "//", True, False, "'")
_YAML = _Syntax("yaml", "'\"", "#", False, True, "")


@dataclass(frozen=True)
class _Item:
    """One string item of a bracketed list, as offsets into the text."""

    start: int
    end: int
    value: str
    quote: str
    comma: int | None = None


@dataclass(frozen=True)
class _Flow:
    """A bracketed list: the offsets of its brackets, items and comments."""

    open: int
    close: int
    items: tuple[_Item, ...]
    comments: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Block:
    """A YAML block list: its items' lines and the key that holds it."""

    items: tuple[BlockItem, ...]
    quote: str
    key: str
    key_position: tuple[int, int]


@dataclass(frozen=True)
class _Target:
    """The list a locator names: its values and where it is written."""

    values: list[str]
    flow: _Flow | None = None
    block: _Block | None = None


def read_entries(text: str, fmt: str, locator: str) -> list[str]:
    """Return the allow-list's names in file order.

    Raise EditError when the format is unknown or the locator does not name
    a list of strings.
    """
    return _locate(text, fmt, locator).values


def add_entry(text: str, fmt: str, locator: str, name: str) -> str:
    """Return `text` with `name` appended to the list, differing only by it.

    The text comes back identical when the name is there already.
    """
    check_group_name(name)
    target = _locate(text, fmt, locator)
    if name in target.values:
        return text
    if target.block is not None:
        edited = _block_add(text, target.block, name)
    else:
        assert target.flow is not None
        literal = _literal(_syntax(fmt), _last_quote(target.flow, fmt), name)
        edited = _flow_add(text, target.flow, literal, _where(fmt, locator))
    _verify(text, edited, fmt, locator, [*target.values, name])
    return edited


def remove_entry(text: str, fmt: str, locator: str, name: str) -> str:
    """Return `text` without `name` in the list, differing only by it.

    Every occurrence goes; the text comes back identical when there is none.
    """
    check_group_name(name)
    target = _locate(text, fmt, locator)
    if name not in target.values:
        return text
    if target.block is not None:
        edited = _block_remove(text, target, name)
    else:
        edited = _flow_remove_all(text, fmt, locator, name)
    expected = [value for value in target.values if value != name]
    _verify(text, edited, fmt, locator, expected)
    return edited


def _where(fmt: str, locator: str) -> str:
    """Name the list in error messages."""
    return f"allow-list {locator!r} ({fmt})"


def _syntax(fmt: str) -> _Syntax:
    """Return the list syntax of a known format."""
    return {"json": _JSON, "js": _JS, "yaml": _YAML}[fmt]


def _locate(text: str, fmt: str, locator: str) -> _Target:
    """Find the list `locator` names in `text` of format `fmt`."""
    locators: dict[str, Callable[[str, str], _Target]] = {
        "yaml": _yaml_target,
        "json": _json_target,
        "js": _js_target,
    }
    if fmt not in locators:
        raise EditError(
            f"{_where(fmt, locator)}: unknown format {fmt!r}; "
            f"expected one of {', '.join(FORMATS)}",
            hint="set the dashboard allow-list format in the site config",
        )
    return locators[fmt](text, locator)


def _verify(
    before: str, after: str, fmt: str, locator: str, expected: list[str]
) -> None:
    """Check that the edit left the expected list and changed nothing else."""
    try:
        values = _locate(after, fmt, locator).values
    except EditError as exc:
        raise _bad_edit(fmt, locator, exc.message) from exc
    if values != expected:
        raise _bad_edit(fmt, locator, f"the list would read {values}")
    if _skeleton(before, fmt, locator) != _skeleton(after, fmt, locator):
        raise _bad_edit(fmt, locator, "text outside the list would change")


def _bad_edit(fmt: str, locator: str, reason: str) -> EditError:
    """Build the error for an edit that did not come out as intended."""
    return EditError(
        f"{_where(fmt, locator)}: the edit went wrong ({reason}); nothing was written",
        hint="edit the file by hand and report the file's layout as a bug",
    )


def _skeleton(text: str, fmt: str, locator: str) -> object:
    """Return what an edit of the list must not change, in comparable form."""
    if fmt == "js":
        flow = _js_target(text, locator).flow
        assert flow is not None
        return text[: flow.open], text[flow.close + 1 :]
    keys = _keys(fmt, locator)
    doc = json.loads(text) if fmt == "json" else load_yaml(text, "allow-list")
    parent, key, _ = _descend(doc, keys, _where(fmt, locator))
    parent[key] = None
    return doc


# Locating the list in each format


def _keys(fmt: str, locator: str) -> list[str]:
    """Split a dotted key path, refusing empty parts."""
    keys = locator.split(".")
    if not all(keys):
        raise EditError(
            f"{_where(fmt, locator)}: expected a dotted key path such as "
            "'dashboard.allowed'",
        )
    return keys


def _descend(doc: Any, keys: list[str], where: str) -> tuple[Any, str, Any]:
    """Follow `keys` through nested mappings; return parent, last key, value."""
    node, parent = doc, None
    for depth, key in enumerate(keys):
        here = ".".join(keys[:depth]) or "the top level"
        if not isinstance(node, dict):
            raise EditError(
                f"{where}: expected a mapping at {here}{_line_of(node)}, "
                f"found {_kind(node)}"
            )
        if key not in node:
            raise EditError(
                f"{where}: key {key!r} not found in {here}{_line_of(node)}",
                hint="check the allow-list locator in the site config",
            )
        parent, node = node, node[key]
    return parent, keys[-1], node


def _line_of(node: Any) -> str:
    """Return ' (line N)' for a YAML node that knows its line, else ''."""
    if isinstance(node, (CommentedMap, CommentedSeq)):
        return f" (line {node.lc.line + 1})"
    return ""


def _kind(value: Any) -> str:
    """Name the type of a parsed value for an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _strings(value: Any, where: str) -> list[str]:
    """Return `value` as a list of strings, or raise EditError saying why not."""
    if not isinstance(value, list):
        raise EditError(f"{where}: expected a list of strings, found {_kind(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise EditError(
                f"{where}: expected a list of strings{_line_of(value)}, "
                f"item {index + 1} is {_kind(item)}"
            )
    return [str(item) for item in value]


def _yaml_target(text: str, locator: str) -> _Target:
    """Locate a YAML list through ruamel's node positions."""
    where = _where("yaml", locator)
    doc = load_yaml(text, where)
    parent, key, seq = _descend(doc, _keys("yaml", locator), where)
    values = _strings(seq, where)
    if not seq or seq.fa.flow_style():
        line, col = seq.lc.line, seq.lc.col
        flow = _scan_flow(text, _offset(text, line, col), _YAML, where)
        if len(flow.items) != len(values):
            raise EditError(f"{where}: cannot read the flow list at line {line + 1}")
        items = tuple(
            replace(i, value=v) for i, v in zip(flow.items, values, strict=True)
        )
        return _Target(values, flow=replace(flow, items=items))
    lines = split_lines(text)
    blocks = tuple(seq_item(lines, seq, index, where) for index in range(len(seq)))
    last_line, last_col = seq.lc.item(len(seq) - 1)
    quote = lines[last_line][last_col : last_col + 1]
    block = _Block(
        items=blocks,
        quote=quote if quote in ("'", '"') else "",
        key=key,
        key_position=parent.lc.key(key),
    )
    return _Target(values, block=block)


def _offset(text: str, line: int, col: int) -> int:
    """Turn a 0-based (line, column) into an offset into `text`."""
    lines = split_lines(text)
    return sum(len(previous) for previous in lines[:line]) + col


def _json_target(text: str, locator: str) -> _Target:
    """Locate a JSON array: `json` checks the value, a scanner finds its text."""
    where = _where("json", locator)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EditError(
            f"{where}: cannot parse JSON at line {exc.lineno}: {exc.msg}"
        ) from exc
    keys = _keys("json", locator)
    values = _strings(_descend(doc, keys, where)[2], where)
    flow = _scan_flow(text, _json_find(text, keys, where), _JSON, where)
    return _Target(values, flow=flow)


def _json_find(text: str, keys: list[str], where: str) -> int:
    """Return the offset of the value at `keys` in valid JSON text."""
    pos = _skip_space(text, 0)
    for key in keys:
        pos = _json_member(text, pos, key, where)
    return pos


def _json_member(text: str, pos: int, key: str, where: str) -> int:
    """Return the offset of member `key`'s value in the object at `pos`."""
    found: int | None = None
    pos = _skip_space(text, pos + 1)
    while text[pos] != "}":
        end = _string_end(text, pos, _JSON, where)
        name = json.loads(text[pos:end])
        value = _skip_space(text, _skip_space(text, end) + 1)
        if name == key and found is not None:
            raise EditError(
                f"{where}: key {key!r} appears twice (line "
                f"{_line_no(text, pos)}); expected it once"
            )
        if name == key:
            found = value
        pos = _skip_space(text, _json_skip_value(text, value, where))
        if text[pos] == ",":
            pos = _skip_space(text, pos + 1)
    assert found is not None, "json.loads saw the key"
    return found


def _json_skip_value(text: str, pos: int, where: str) -> int:
    """Return the offset just after the valid JSON value at `pos`."""
    if text[pos] == '"':
        return _string_end(text, pos, _JSON, where)
    if text[pos] not in "[{":
        match = _JSON_SCALAR.match(text, pos)
        assert match is not None
        return match.end()
    depth = 0
    while True:
        char = text[pos]
        if char == '"':
            pos = _string_end(text, pos, _JSON, where)
            continue
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        pos += 1
        if depth == 0:
            return pos


def _js_target(text: str, locator: str) -> _Target:
    """Locate the array literal assigned to identifier `locator`."""
    where = _where("js", locator)
    if not _JS_IDENTIFIER.fullmatch(locator):
        raise EditError(f"{where}: expected an identifier such as 'allowed'")
    pattern = re.compile(
        rf"(?<![\w$.]){re.escape(locator)}"
        r"(?:[ \t]*:[ \t]*[\w$<>\[\]|.,() \t]+?)?\s*=(?![=>])\s*\["
    )
    matches = list(pattern.finditer(_mask_js(text, where)))
    if not matches:
        raise EditError(
            f"{where}: expected `{locator} = [...]` (optionally with const/let/"
            "var, export or a type annotation); found no such array literal",
            hint="check the allow-list identifier in the site config",
        )
    if len(matches) > 1:
        lines = ", ".join(str(_line_no(text, m.start())) for m in matches)
        raise EditError(
            f"{where}: expected one array assigned to {locator!r}, "
            f"found several (lines {lines})",
        )
    flow = _scan_flow(text, matches[0].end() - 1, _JS, where)
    return _Target([item.value for item in flow.items], flow=flow)


# Scanning text


def _line_no(text: str, pos: int) -> int:
    """Return the 1-based line number of offset `pos`."""
    return len(_BREAK.findall(text, 0, pos)) + 1


def _line_start(text: str, pos: int) -> int:
    """Return the offset where the line holding `pos` starts."""
    return max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1


def _line_end(text: str, pos: int) -> int:
    """Return the offset of the line break ending `pos`'s line, or the end."""
    match = _BREAK.search(text, pos)
    return match.start() if match else len(text)


def _has_break(text: str, start: int, end: int) -> bool:
    """Tell whether a line break lies between `start` and `end`."""
    return _BREAK.search(text, start, end) is not None


def _skip_space(text: str, pos: int) -> int:
    """Return the first offset from `pos` that is not white space."""
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _skip_trivia(
    text: str, pos: int, syntax: _Syntax, comments: list[tuple[int, int]], where: str
) -> int:
    """Skip white space and comments from `pos`, recording comment spans."""
    while True:
        pos = _skip_space(text, pos)
        end = _comment_end(text, pos, syntax, where)
        if end is None:
            return pos
        comments.append((pos, end))
        pos = end


def _comment_end(text: str, pos: int, syntax: _Syntax, where: str) -> int | None:
    """Return where a comment starting at `pos` ends, None if none starts."""
    line_comment = syntax.line_comment
    if line_comment and text.startswith(line_comment, pos):
        return _line_end(text, pos)
    if syntax.block_comments and text.startswith("/*", pos):
        end = text.find("*/", pos + 2)
        if end < 0:
            raise EditError(
                f"{where}: unterminated comment at line {_line_no(text, pos)}"
            )
        return end + 2
    return None


def _string_end(text: str, pos: int, syntax: _Syntax, where: str) -> int:
    """Return the offset just after the quoted string starting at `pos`."""
    quote, index = text[pos], pos + 1
    doubled = syntax.fmt == "yaml" and quote == "'"
    while index < len(text):
        char = text[index]
        if char == quote and doubled and text.startswith(quote * 2, index):
            index += 2
        elif char == quote:
            return index + 1
        elif char == "\\" and not doubled:
            index += 3 if text.startswith("\r\n", index + 1) else 2
        elif char in "\r\n" and syntax.fmt == "js":
            break
        else:
            index += 1
    raise EditError(f"{where}: unterminated string at line {_line_no(text, pos)}")


def _scan_flow(text: str, pos: int, syntax: _Syntax, where: str) -> _Flow:
    """Read the bracketed list of strings whose '[' is at `pos`."""
    if text[pos : pos + 1] != "[":
        raise EditError(f"{where}: expected '[' at line {_line_no(text, pos)}")
    items: list[_Item] = []
    comments: list[tuple[int, int]] = []
    index, want_item = pos + 1, True
    while True:
        index = _skip_trivia(text, index, syntax, comments, where)
        char = text[index : index + 1]
        if char == "]":
            return _Flow(pos, index, tuple(items), tuple(comments))
        if char == "," and not want_item:
            items[-1] = replace(items[-1], comma=index)
            index, want_item = index + 1, True
            continue
        if not want_item or char in ("", ","):
            raise EditError(
                f"{where}: expected a string, ',' or ']' at line "
                f"{_line_no(text, index)}"
            )
        items.append(_scan_item(text, index, syntax, where))
        index, want_item = items[-1].end, False


def _scan_item(text: str, pos: int, syntax: _Syntax, where: str) -> _Item:
    """Read the string item starting at `pos`."""
    char = text[pos]
    if char in syntax.quotes:
        end = _string_end(text, pos, syntax, where)
        return _Item(pos, end, _decode(text[pos:end], syntax), char)
    if syntax.plain and char not in "[]{},#&*!|>%@`'\"":
        match = _YAML_PLAIN_ITEM.match(text, pos)
        if match and match.end() > pos:
            return _Item(pos, match.end(), match.group(), "")
    raise EditError(
        f"{where}: expected a quoted string at line {_line_no(text, pos)}, "
        f"found {text[pos : pos + 12]!r}",
        hint="only plain string literals can be edited in place",
    )


_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


def _decode(literal: str, syntax: _Syntax) -> str:
    """Return the value of a quoted string literal (YAML values are rechecked)."""
    if syntax.fmt == "json":
        return str(json.loads(literal))
    body = literal[1:-1]
    if syntax.fmt == "yaml":
        return body.replace("''", "'") if literal[0] == "'" else body
    return re.sub(
        r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|.)",
        _js_escape,
        body,
        flags=re.DOTALL,
    )


def _js_escape(match: re.Match[str]) -> str:
    """Return the character a JS escape sequence stands for."""
    code = match.group(1)
    if code[0] in "ux" and len(code) > 1:
        return chr(int(code.lstrip("ux{").rstrip("}"), 16))
    if code in ("\r\n", "\n", "\r", "\u2028", "\u2029"):
        return ""
    if code == "0":
        return "\0"
    return _JS_ESCAPES.get(code, code)


# Hiding JS comments and literals so that code can be searched


_REGEX_AFTER = frozenset("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = frozenset(
    {"return", "typeof", "case", "do", "else", "in", "of", "void", "yield"}
    | {"await", "delete", "new", "throw", "instanceof"}
)


def _mask_js(text: str, where: str) -> str:
    """Return `text` with comments, strings, templates and regex literals blanked.

    Line breaks stay, so offsets and line numbers match the original. A
    literal keeps its last character, so that what follows it still reads as
    coming after an operand.
    """
    out = list(text)
    templates: list[int] = []
    depth = pos = 0
    while pos < len(text):
        char = text[pos]
        end = _comment_end(text, pos, _JS, where)
        if end is not None:
            _blank(out, pos, end)
            pos = end
            continue
        if char in "'\"":
            end = _string_end(text, pos, _JS, where)
        elif char == "/" and _regex_may_start(out, pos):
            end = _regex_end(text, pos)
        if end is not None:
            _blank(out, pos, end - 1)
            pos = end
            continue
        if char == "`" or (char == "}" and templates and templates[-1] == depth):
            if char == "}":
                templates.pop()
            pos, opened = _template_part(text, pos, out, where)
            if opened:
                templates.append(depth)
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        pos += 1
    return "".join(out)


def _blank(out: list[str], start: int, end: int) -> None:
    """Replace the characters from `start` to `end` with spaces, keeping breaks."""
    for index in range(start, end):
        if out[index] not in "\r\n":
            out[index] = " "


def _regex_may_start(out: list[str], pos: int) -> bool:
    """Tell whether a '/' at `pos` starts a regex literal rather than a division."""
    index = pos - 1
    while index >= 0 and out[index] in " \t\r\n":
        index -= 1
    if index < 0 or out[index] in _REGEX_AFTER:
        return True
    end = index + 1
    while index >= 0 and (out[index].isalnum() or out[index] in "_$"):
        index -= 1
    return "".join(out[index + 1 : end]) in _REGEX_KEYWORDS


def _regex_end(text: str, pos: int) -> int | None:
    """Return the offset after the regex literal at `pos`, None if it is none."""
    index, in_class = pos + 1, False
    while index < len(text) and text[index] not in "\r\n":
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "/" and not in_class:
            flags = _REGEX_FLAGS.match(text, index + 1)
            return flags.end() if flags else index + 1
        if char in "[]":
            in_class = char == "["
        index += 1
    return None


def _template_part(text: str, pos: int, out: list[str], where: str) -> tuple[int, bool]:
    """Blank template text from the '`' or '}' at `pos`.

    Return the offset after it and whether it ended by opening a '${'.
    """
    index = pos + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text[index] == "`":
            _blank(out, pos, index)
            return index + 1, False
        elif text.startswith("${", index):
            _blank(out, pos, index + 1)
            return index + 2, True
        else:
            index += 1
    raise EditError(
        f"{where}: unterminated template literal at line {_line_no(text, pos)}"
    )


# Editing a bracketed list


def _last_quote(flow: _Flow, fmt: str) -> str:
    """Return the quote of the list's last item, the format's default if empty."""
    return flow.items[-1].quote if flow.items else _syntax(fmt).default_quote


def _literal(syntax: _Syntax, quote: str, name: str) -> str:
    """Write `name` as an item, in `quote` style ('' for YAML plain)."""
    if syntax.fmt == "json":
        return json.dumps(name)
    if not quote and not _yaml_plain_ok(name):
        quote = "'"
    return f"{quote}{name}{quote}"


def _yaml_plain_ok(name: str) -> bool:
    """Tell whether `name` reads back as the same string when unquoted."""
    return bool(_YAML_PLAIN.fullmatch(name)) and name not in _YAML_NOT_PLAIN


def _indent_at(text: str, pos: int) -> str:
    """Return white space that reaches the column of `pos` on its line."""
    return re.sub(r"\S", " ", text[_line_start(text, pos) : pos])


def _after_line(text: str, pos: int) -> tuple[int, str]:
    """Return the offset after the line break ending `pos`'s line, and the break."""
    match = _BREAK.search(text, pos)
    assert match is not None, "a ']' follows on a later line"
    return match.end(), match.group()


def _flow_add(text: str, flow: _Flow, literal: str, where: str) -> str:
    """Append `literal` as the last item, on a line of its own if items are."""
    if not flow.items:
        return _flow_add_first(text, flow, literal, where)
    last = flow.items[-1]
    anchor = last.end if last.comma is None else last.comma + 1
    if not _has_break(text, anchor, flow.close):
        if last.comma is None:
            return text[:anchor] + ", " + literal + text[anchor:]
        return text[:anchor] + " " + literal + "," + text[anchor:]
    at, newline = _after_line(text, anchor)
    if any(start < at < end for start, end in flow.comments):
        raise EditError(
            f"{where}: cannot add a line after line {_line_no(text, anchor)}, "
            "a comment continues there",
            hint="move the comment, then run again",
        )
    comma = "" if last.comma is None else ","
    line = _indent_at(text, last.start) + literal + comma + newline
    text = text[:at] + line + text[at:]
    if last.comma is None:
        text = text[: last.end] + "," + text[last.end :]
    return text


def _flow_add_first(text: str, flow: _Flow, literal: str, where: str) -> str:
    """Put `literal` into an empty list, keeping its one-line or open layout."""
    if not _has_break(text, flow.open, flow.close):
        return text[: flow.open + 1] + literal + text[flow.open + 1 :]
    close_line = _line_start(text, flow.close)
    if text[close_line : flow.close].strip():
        raise EditError(
            f"{where}: cannot add to the empty list at line "
            f"{_line_no(text, flow.open)}: expected ']' on a line of its own",
            hint="write the empty list as [] and run again",
        )
    open_line = text[_line_start(text, flow.open) : flow.open]
    indent = open_line[: len(open_line) - len(open_line.lstrip())] + "  "
    newline = _after_line(text, flow.open)[1]
    return text[:close_line] + indent + literal + newline + text[close_line:]


def _flow_remove_all(text: str, fmt: str, locator: str, name: str) -> str:
    """Remove every item equal to `name`, rescanning after each removal."""
    while True:
        flow = _locate(text, fmt, locator).flow
        assert flow is not None
        indexes = [i for i, item in enumerate(flow.items) if item.value == name]
        if not indexes:
            return text
        text = _flow_remove(text, flow, indexes[0], _syntax(fmt))


def _flow_remove(text: str, flow: _Flow, index: int, syntax: _Syntax) -> str:
    """Remove item `index`: its whole line if it has one, else it and a comma."""
    items = flow.items
    item = items[index]
    previous = items[index - 1] if index > 0 else None
    is_last = index == len(items) - 1
    if _own_line(text, flow, item, syntax):
        start = _line_start(text, item.start)
        end = _after_line(text, item.start)[0]
        text = text[:start] + text[end:]
        if is_last and item.comma is None and previous is not None:
            assert previous.comma is not None
            text = text[: previous.comma] + text[previous.comma + 1 :]
        return text
    if previous is not None and (
        is_last or not _has_break(text, previous.end, item.start)
    ):
        return text[: previous.end] + text[item.end :]
    if not is_last:
        return text[: item.start] + text[items[index + 1].start :]
    end = item.end if item.comma is None else item.comma + 1
    return text[: item.start] + text[end:]


def _own_line(text: str, flow: _Flow, item: _Item, syntax: _Syntax) -> bool:
    """Tell whether `item` (with its comma and a comment) fills a line alone."""
    start = _line_start(text, item.start)
    if start <= flow.open or text[start : item.start].strip():
        return False
    rest = item.end if item.comma is None else item.comma + 1
    if _has_break(text, item.start, rest):
        return False
    tail = text[rest : _line_end(text, rest)].strip()
    comment = syntax.line_comment
    return not tail or (comment is not None and tail.startswith(comment))


# Editing a YAML block list


def _block_add(text: str, block: _Block, name: str) -> str:
    """Append a `- name` line after the block list's last item."""
    lines = split_lines(text)
    last = block.items[-1]
    line = " " * last.dash + last.prefix + _literal(_YAML, block.quote, name)
    insert_lines(lines, last.last + 1, [line], newline_of(text))
    return "".join(lines)


def _block_remove(text: str, target: _Target, name: str) -> str:
    """Delete the lines of every item equal to `name`; `[]` if none is left."""
    block = target.block
    assert block is not None
    lines = split_lines(text)
    for item, value in reversed(list(zip(block.items, target.values, strict=True))):
        if value == name:
            delete_lines(lines, item.first, item.last)
    if all(value == name for value in target.values):
        _mark_empty(lines, block)
    return "".join(lines)


def _mark_empty(lines: list[str], block: _Block) -> None:
    """Give the list's key the value `[]` once its last item is gone."""
    line, col = block.key_position
    text = lines[line]
    end = col + len(block.key)
    if text[col : col + 1] in ("'", '"'):
        end = text.index(text[col], col + 1) + 1
    colon = end + len(text[end:]) - len(text[end:].lstrip(" "))
    if text[colon : colon + 1] != ":":
        raise EditError(
            f"cannot empty the list at line {line + 1}: expected ':' after "
            f"{block.key!r}"
        )
    lines[line] = text[: colon + 1] + " []" + text[colon + 1 :]
