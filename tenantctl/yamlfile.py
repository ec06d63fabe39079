"""Reading the YAML files users write, with line numbers for error messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tenantctl.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


@dataclass
class YamlDocument:
    """A parsed YAML file: its data and the node tree that knows the lines."""

    path: Path
    data: Any
    root: yaml.Node | None

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        """The 1-based line of the value at ``loc``, or of its nearest parent."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = key if value is None else value
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        items: list[yaml.Node] = node.value
        return items[part] if 0 <= part < len(items) else None
    return None


def load(path: Path, what: str) -> YamlDocument:
    """Parse the YAML file at ``path``; InputError naming it when that fails."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise InputError(f"{where}: not valid YAML: {exc.problem}") from None

    return YamlDocument(path=path, data=data, root=root)


def validate(doc: YamlDocument, model: type[Model], what: str) -> Model:
    """Validate ``doc`` against ``model``; one InputError listing every fault."""
    if not isinstance(doc.data, dict):
        raise InputError(f"{doc.path}: the {what} must be a YAML mapping")

    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        lines = [_describe(doc, error) for error in exc.errors()]
        count = len(lines)
        head = f"{doc.path}: {count} problem{'s' if count > 1 else ''} in the {what}"
        raise InputError("\n".join([head, *lines])) from None


def _describe(doc: YamlDocument, error: Any) -> str:
    loc = [part for part in error["loc"] if not _is_union_tag(part)]
    field = ".".join(str(part) for part in loc) or "(top level)"
    line = doc.line_of(loc)
    where = f"line {line}, " if line else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    return f"  {where}{field}: {message}"


def _is_union_tag(part: int | str) -> bool:
    return isinstance(part, str) and part.startswith(("function-", "literal["))
