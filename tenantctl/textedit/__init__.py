"""Format-keeping edits of files that belong to other teams.

The modules of this package change one entry of a file and leave every other
byte as it was (design principle 8). Parsers are used only to find where
things are and to check the result; the edit itself is done on the text.

This module holds what both editors share: the group-name rule, line
handling that keeps line endings, and YAML parsing that reports positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tenantctl.errors import EditError

__all__ = [
    "BlockItem",
    "block_item",
    "check_group_name",
    "delete_lines",
    "insert_lines",
    "line_indent",
    "load_yaml",
    "newline_of",
    "seq_item",
    "split_lines",
]

_GROUP_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def check_group_name(name: str) -> None:
    """Raise EditError unless `name` can be written anywhere without quoting."""
    if not _GROUP_NAME.fullmatch(name):
        raise EditError(
            f"group name {name!r} cannot be written into an owner's file: "
            "expected lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
            hint="use the GitLab group path, e.g. 'contractors'",
        )


def split_lines(text: str) -> list[str]:
    """Split `text` into lines that keep their endings; joining gives `text`.

    Only CR, LF and CRLF end a line, as in YAML and JSON.
    """
    return _LINE.findall(text)


def newline_of(text: str) -> str:
    """Return the line ending the text uses first, LF if it has none."""
    match = re.search(r"\r\n|\r|\n", text)
    return match.group() if match else "\n"


def line_indent(line: str) -> int:
    """Return the number of spaces that start `line`."""
    return len(line) - len(line.lstrip(" "))


def insert_lines(lines: list[str], index: int, new: list[str], newline: str) -> None:
    """Insert `new` (lines without endings) before `lines[index]`, in place.

    At the end of a text without a final line break, the text still ends
    without one afterwards.
    """
    if not new:
        return
    at_end = index == len(lines)
    unterminated = bool(lines) and not lines[-1].endswith(("\n", "\r"))
    if at_end and unterminated:
        lines[-1] += newline
        lines.extend(line + newline for line in new[:-1])
        lines.append(new[-1])
        return
    lines[index:index] = [line + newline for line in new]


def delete_lines(lines: list[str], first: int, last: int) -> None:
    """Delete `lines[first:last + 1]` in place, the inverse of `insert_lines`."""
    unterminated_end = last == len(lines) - 1 and not lines[-1].endswith(("\n", "\r"))
    del lines[first : last + 1]
    if unterminated_end and first > 0:
        lines[-1] = lines[-1].rstrip("\r\n")


def load_yaml(text: str, what: str) -> Any:
    """Parse `text` with the round-trip loader, which records node positions.

    A syntax error becomes an EditError naming `what` and the line.
    """
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise EditError(
            f"{what}: cannot parse YAML{where}: {problem}",
            hint="fix the file by hand first; tenantctl edits only valid YAML",
        ) from exc
    except YAMLError as exc:
        raise EditError(f"{what}: cannot parse YAML: {exc}") from exc


@dataclass(frozen=True)
class BlockItem:
    """Where one item of a block sequence sits (0-based line numbers).

    `first` is the line of its dash, `last` the last line that belongs to
    it, `dash` the column of the dash and `prefix` the dash with the spaces
    after it, e.g. "- ".
    """

    first: int
    last: int
    dash: int
    prefix: str


def block_item(lines: list[str], line: int, col: int, what: str) -> BlockItem:
    """Locate the block-sequence item whose content starts at (`line`, `col`).

    The item owns the following lines that are blank or indented deeper
    than its dash, up to the last of them that is not blank. Raise
    EditError when the dash is not on the same line as the content.
    """
    head = lines[line][:col]
    stripped = head.rstrip(" ")
    if not stripped.endswith("-") or stripped[:-1].strip(" "):
        raise EditError(
            f"{what}: expected '- ' before the item at line {line + 1}",
            hint="write each list item on the line of its dash",
        )
    dash = len(stripped) - 1
    last = line
    for index in range(line + 1, len(lines)):
        text = lines[index].rstrip("\r\n")
        if not text.strip():
            continue
        if line_indent(text) <= dash:
            break
        last = index
    return BlockItem(first=line, last=last, dash=dash, prefix=head[dash:])


def seq_item(lines: list[str], seq: Any, index: int, what: str) -> BlockItem:
    """Locate item `index` of the parsed block sequence `seq` in `lines`."""
    line, col = seq.lc.item(index)
    return block_item(lines, line, col, what)
