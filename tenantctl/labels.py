"""Comparing and replicating group labels, for onboarding and ``labels``.

Only a group's own labels count (api-notes "Labels"): a label the target
inherits from an ancestor cannot be created there (409) nor changed there
(404), so it counts as present and any difference is reported as drift to
fix in the ancestor. Titles match exactly (they are case-sensitive); colors
compare as colors, so ``#FFF``, ``#ffffff`` and ``white`` are equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import webcolors

Json = dict[str, Any]


def normalise_color(color: str) -> str:
    """``color`` as upper-case ``#RRGGBB``; unknown forms are returned as is."""
    text = color.strip()
    try:
        if text.startswith("#"):
            return str(webcolors.normalize_hex(text)).upper()
        return str(webcolors.name_to_hex(text.lower())).upper()
    except ValueError:
        return text


@dataclass(frozen=True)
class Label:
    name: str
    color: str
    description: str

    @classmethod
    def of(cls, data: Json) -> Label:
        return cls(
            name=str(data["name"]),
            color=str(data.get("color") or ""),
            description=str(data.get("description") or ""),
        )

    def differences(self, other: Label) -> dict[str, tuple[str, str]]:
        """Field -> (this value, other value) where the two labels differ."""
        diff = {}
        if normalise_color(self.color) != normalise_color(other.color):
            diff["color"] = (self.color, other.color)
        if self.description != other.description:
            diff["description"] = (self.description, other.description)
        return diff


@dataclass
class LabelDiff:
    """How a target's labels differ from a source's."""

    missing: list[Label] = field(default_factory=list)
    different: list[tuple[Label, Label]] = field(default_factory=list)
    extra: list[Label] = field(default_factory=list)
    inherited_drift: list[tuple[Label, Label]] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.different or self.extra)


def diff_labels(
    source: Iterable[Label],
    target_own: Iterable[Label],
    target_inherited: Iterable[Label] = (),
) -> LabelDiff:
    """Compare labels by exact title; (target, source) pairs for differences."""
    own = {label.name: label for label in target_own}
    inherited = {label.name: label for label in target_inherited}
    wanted = {label.name: label for label in source}
    diff = LabelDiff()

    for name, label in wanted.items():
        if name in own:
            if own[name].differences(label):
                diff.different.append((own[name], label))
        elif name in inherited:
            if inherited[name].differences(label):
                diff.inherited_drift.append((inherited[name], label))
        else:
            diff.missing.append(label)

    diff.extra = [label for name, label in own.items() if name not in wanted]
    return diff


def gitlab_color(color: str) -> str:
    """The color as GitLab stores it: hex as sent, names as upper-case hex."""
    text = color.strip()
    return text if text.startswith("#") else normalise_color(text)
