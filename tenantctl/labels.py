"""Replicating group labels: ``labels diff|sync|export`` and onboarding step 5.

Only a group's own labels count (api-notes "Labels"). A label a target
inherits from an ancestor cannot be created there (409) nor changed there
(404), so it counts as present and any difference is reported as drift to
fix in the ancestor. Titles match exactly (they are case-sensitive); colors
compare as colors, so ``#FFF``, ``#ffffff`` and ``white`` are equal.

A target costs the pages that list its labels plus one write per label that
changes: labels are read a page at a time and compared as they arrive, and
writes address labels by id, so titles never need encoding in a URL.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import webcolors
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenantctl import yamlfile
from tenantctl.adapters.gitlab import GitLab
from tenantctl.errors import InputError, TenantctlError
from tenantctl.steps.base import Change

Json = dict[str, Any]
_HEX = re.compile(r"^#(?:[0-9A-Fa-f]{3}){1,2}$")

# -- values ----------------------------------------------------------------


def normalise_color(color: str) -> str:
    """``color`` as upper-case ``#RRGGBB``; unknown forms are returned as is."""
    text = color.strip()
    try:
        if text.startswith("#"):
            return str(webcolors.normalize_hex(text)).upper()
        return str(webcolors.name_to_hex(text.lower())).upper()
    except ValueError:
        return text


def valid_color(color: str) -> bool:
    """True for what GitLab accepts: ``#RGB``, ``#RRGGBB`` or a CSS name."""
    text = color.strip()
    return bool(_HEX.match(text)) or normalise_color(text) != text


def gitlab_color(color: str) -> str:
    """The color as GitLab stores it: hex as sent, names as upper-case hex."""
    text = color.strip()
    return text if text.startswith("#") else normalise_color(text)


def scope_of(name: str) -> str | None:
    """The scope of a scoped label (up to its last ``::``), else None."""
    end = name.rfind("::")
    return name[:end] if end >= 0 else None


@dataclass(frozen=True)
class Label:
    name: str
    color: str
    description: str = ""

    @classmethod
    def of(cls, data: Json) -> Label:
        return cls(
            name=str(data["name"]),
            color=str(data.get("color") or ""),
            description=str(data.get("description") or ""),
        )

    def differences(self, want: Label) -> dict[str, tuple[str, str]]:
        """Field -> (this value, wanted value) where the two labels differ."""
        diff = {}
        if normalise_color(self.color) != normalise_color(want.color):
            diff["color"] = (self.color, want.color)
        if self.description != want.description:
            diff["description"] = (self.description, want.description)
        return diff

    def fields(self) -> Json:
        """The fields to create this label with, color in GitLab's form."""
        return {
            "name": self.name,
            "color": gitlab_color(self.color),
            "description": self.description,
        }


@dataclass(frozen=True)
class Held:
    """A label as a target holds it: its id and, when asked, its use."""

    label: Label
    id: int
    issues: int | None = None
    merge_requests: int | None = None

    @classmethod
    def of(cls, data: Json) -> Held:
        issues = None
        if "open_issues_count" in data:
            issues = int(data["open_issues_count"] or 0)
            issues += int(data.get("closed_issues_count") or 0)
        merge_requests = data.get("open_merge_requests_count")
        return cls(
            label=Label.of(data),
            id=int(data["id"]),
            issues=issues,
            merge_requests=None if merge_requests is None else int(merge_requests),
        )

    @property
    def used(self) -> bool:
        return bool(self.issues or self.merge_requests)


# -- the source: a group's labels or a template file ---------------------


@dataclass
class Source:
    """The labels every target should have, and renames to apply first."""

    origin: str
    labels: dict[str, Label]
    group: str | None = None
    renames: dict[str, str] = field(default_factory=dict)


def group_source(
    gitlab: GitLab, group: str, *, include_inherited: bool = False
) -> Source:
    """The labels of ``group``: its own, or with its ancestors' too."""
    labels: dict[str, Label] = {}
    for data in gitlab.iter_labels(group, own_only=not include_inherited):
        label = Label.of(data)
        labels[label.name] = label
    return Source(origin=f"group {group}", labels=labels, group=group)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TemplateLabel(_Strict):
    name: str = Field(min_length=1, max_length=255)
    color: str
    description: str = ""

    @field_validator("name")
    @classmethod
    def _title(cls, value: str) -> str:
        if value != value.strip() or "," in value:
            raise ValueError("no commas, and no spaces at either end")
        return value

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not valid_color(value):
            raise ValueError("use #RGB, #RRGGBB or a CSS color name")
        return value


class TemplateRename(_Strict):
    old: str = Field(alias="from", min_length=1)
    new: str = Field(alias="to", min_length=1)


class Template(_Strict):
    """The label template file that ``labels export`` writes."""

    source: str | None = None
    labels: list[TemplateLabel]
    renames: list[TemplateRename] = Field(default_factory=list)


def load_template(path: Path) -> Source:
    """Read a label template; InputError naming file, line and field."""
    doc = yamlfile.load(path, "label template")
    template = yamlfile.validate(doc, Template, "label template")
    labels: dict[str, Label] = {}
    for index, item in enumerate(template.labels):
        if item.name in labels:
            line = doc.line_of(["labels", index])
            raise InputError(f"{path}:{line}: label {item.name!r} is listed twice")
        labels[item.name] = Label(item.name, item.color, item.description)
    renames = pair_renames((r.old, r.new) for r in template.renames)
    return Source(
        origin=f"file {path}", labels=labels, group=template.source, renames=renames
    )


def template_text(group: str, labels: Iterable[Label]) -> str:
    """A label template of ``group``'s labels, for ``--from-file``."""
    items = [
        {"name": lb.name, "color": lb.color, "description": lb.description}
        for lb in labels
    ]
    body = yaml.safe_dump(
        {"source": group, "labels": items, "renames": []},
        sort_keys=False,
        allow_unicode=True,
    )
    head = (
        f"# Board labels of {group}, written by `tenantctl labels export`.\n"
        "# renames: a list of {from: OLD, to: NEW}, applied before syncing.\n"
    )
    return head + body


def parse_renames(values: Sequence[str]) -> dict[str, str]:
    """``OLD=NEW`` options as a mapping; split at the first ``=``."""
    pairs = []
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new:
            raise InputError(f"--rename {value!r}: write it as OLD=NEW")
        pairs.append((old, new))
    return pair_renames(pairs)


def pair_renames(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    renames: dict[str, str] = {}
    for old, new in pairs:
        if old == new or old in renames:
            raise InputError(f"rename of {old!r}: given twice, or to itself")
        renames[old] = new
    return renames


def check_renames(source: Source) -> None:
    """Each rename must lead to a source label from a name the source lacks."""
    for old, new in source.renames.items():
        if new not in source.labels:
            raise InputError(
                f"rename {old!r} -> {new!r}: {new!r} is not a label of the "
                f"{source.origin}",
                hint="rename to a label the source has",
            )
        if old in source.labels:
            raise InputError(
                f"rename {old!r} -> {new!r}: the {source.origin} still has "
                f"{old!r}, so targets must keep it",
            )


# -- one target: read, compare, plan -------------------------------------


@dataclass(frozen=True)
class Target:
    """A group to sync: its full path, and what requests address it by."""

    path: str
    ref: int | str | None = None
    nested: bool | None = None

    @property
    def address(self) -> int | str:
        return self.ref if self.ref is not None else self.path

    @property
    def has_parent(self) -> bool:
        """Subgroups inherit labels; a path without ``/`` is top-level."""
        return self.nested if self.nested is not None else "/" in self.path


@dataclass(frozen=True)
class SyncOptions:
    prune: bool = False
    force: bool = False


Fate = Literal["kept", "delete", "in use"]


@dataclass
class Extra:
    """A label of the target that the source lacks, and what sync does."""

    held: Held
    fate: Fate = "kept"

    def as_dict(self) -> Json:
        data: Json = {"name": self.held.label.name, "action": self.fate}
        if self.held.issues is not None:
            data["issues"] = self.held.issues
            data["merge_requests"] = self.held.merge_requests
        return data


Status = Literal["in sync", "differs", "synced", "failed"]


@dataclass
class TargetPlan:
    """What a target lacks or has differently, and the writes that fix it."""

    target: str
    changes: list[Change] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    written: int = 0

    @property
    def differs(self) -> bool:
        """Something sync would change, or drift it cannot fix here."""
        in_use = any(extra.fate == "in use" for extra in self.extras)
        return bool(self.changes or self.drift or in_use)

    @property
    def status(self) -> Status:
        if self.error is not None:
            return "failed"
        if self.written:
            return "synced"
        return "differs" if self.differs else "in sync"

    def as_dict(self) -> Json:
        data: Json = {
            "target": self.target,
            "status": self.status,
            "changes": [change.as_dict() for change in self.changes],
            "extra": [extra.as_dict() for extra in self.extras],
            "drift": self.drift,
            "notes": self.notes,
            "writes": self.written,
        }
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass
class _Survey:
    """The target's labels as compared with the source, page by page."""

    own: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)
    updates: list[tuple[Held, Label]] = field(default_factory=list)
    renames: list[Held] = field(default_factory=list)
    extras: list[Held] = field(default_factory=list)
    inherited: set[str] = field(default_factory=set)
    inherited_drift: list[tuple[Label, Label]] = field(default_factory=list)


def plan_target(
    gitlab: GitLab,
    source: Source,
    target: Target,
    options: SyncOptions = SyncOptions(),
    *,
    exists: bool = True,
) -> TargetPlan:
    """Read ``target``'s labels and return the writes that match the source.

    With ``exists=False`` (a group not created yet) only the labels it will
    inherit from its parent are read; the rest of the source is to be created.
    """
    plan = TargetPlan(target.path)
    if exists:
        survey = _survey(gitlab, source, target, options)
    else:
        survey = _survey_of_parent(gitlab, source, target)
    write = _Writer(gitlab, target)

    for held in _renames(source, survey, plan):
        new = source.labels[source.renames[held.label.name]]
        plan.changes.append(write.rename(held, new))
    for held, want in survey.updates:
        plan.changes.append(write.update(held, want))
    for name, label in source.labels.items():
        if name not in survey.present:
            plan.changes.append(write.create(label))
    for extra in _extras(survey, options, plan):
        plan.extras.append(extra)
        if extra.fate == "delete":
            plan.changes.append(write.delete(extra.held))
    _report_inherited(target, survey, plan)
    _check_scopes(source, survey, plan)
    _note_case_twins(source, survey, plan)
    return plan


def _survey(
    gitlab: GitLab, source: Source, target: Target, options: SyncOptions
) -> _Survey:
    survey = _Survey()
    own = gitlab.iter_labels(target.address, own_only=True, with_counts=options.prune)
    for data in own:
        _take_own(source, survey, Held.of(data))
    if target.has_parent:
        # GitLab does not say which labels are inherited: the difference
        # between the two listings is what the ancestors give.
        for data in gitlab.iter_labels(target.address, own_only=False):
            _take_inherited(source, survey, Label.of(data))
    return survey


def _survey_of_parent(gitlab: GitLab, source: Source, target: Target) -> _Survey:
    """What a group not created yet will inherit from its parent."""
    survey = _Survey()
    parents = _ancestors(target.path)
    if target.has_parent and parents:
        for data in gitlab.iter_labels(parents[0], own_only=False):
            _take_inherited(source, survey, Label.of(data))
    return survey


def _take_own(source: Source, survey: _Survey, held: Held) -> None:
    name = held.label.name
    survey.own.add(name)
    want = source.labels.get(name)
    if want is not None:
        survey.present.add(name)
        if held.label.differences(want):
            survey.updates.append((held, want))
    elif name in source.renames:
        survey.renames.append(held)
    else:
        survey.extras.append(held)


def _take_inherited(source: Source, survey: _Survey, label: Label) -> None:
    name = label.name
    if name in survey.own:
        return
    survey.inherited.add(name)
    want = source.labels.get(name)
    if want is not None:
        survey.present.add(name)
        if label.differences(want):
            survey.inherited_drift.append((label, want))


def _report_inherited(target: Target, survey: _Survey, plan: TargetPlan) -> None:
    """Drift in inherited labels: a write here would be refused (404, 409)."""
    ancestors = " or ".join(_ancestors(target.path)) or "an ancestor group"
    for have, want in survey.inherited_drift:
        fields = ", ".join(
            f"{key} {values[0]!r} -> {values[1]!r}"
            for key, values in have.differences(want).items()
        )
        plan.drift.append(
            f"label {want.name!r} is inherited from {ancestors} and differs "
            f"({fields}): fix it in the parent group"
        )


def _ancestors(path: str) -> list[str]:
    """``a/b/c`` -> ``["a/b", "a"]``: the nearest ancestor first."""
    parts = path.split("/")
    return ["/".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]


def _renames(source: Source, survey: _Survey, plan: TargetPlan) -> Iterator[Held]:
    """The target's labels to rename; a rename onto an existing title is drift."""
    for held in survey.renames:
        old = held.label.name
        new = source.renames[old]
        if new in survey.present:
            where = "inherits" if new in survey.inherited else "has"
            plan.drift.append(
                f"cannot rename {old!r} to {new!r}: {plan.target} already "
                f"{where} {new!r}; move {old!r}'s issues to it by hand, then "
                f"delete {old!r} (--prune --force)"
            )
            survey.extras.append(held)
            continue
        survey.present.add(new)
        yield held


def _extras(survey: _Survey, options: SyncOptions, plan: TargetPlan) -> Iterator[Extra]:
    for held in survey.extras:
        if not options.prune:
            yield Extra(held, "kept")
        elif held.used and not options.force:
            plan.notes.append(
                f"kept {held.label.name!r}: {_usage(held)} use it (--force deletes "
                "it, and removes it from them)"
            )
            yield Extra(held, "in use")
        else:
            yield Extra(held, "delete")


def _usage(held: Held) -> str:
    issues = held.issues or 0
    merge_requests = held.merge_requests or 0
    return (
        f"{issues} issue{'s' if issues != 1 else ''} and {merge_requests} "
        f"merge request{'s' if merge_requests != 1 else ''}"
    )


def _check_scopes(source: Source, survey: _Survey, plan: TargetPlan) -> None:
    """Report scopes where the target keeps labels the source lacks.

    An issue carries one label of a scope at a time, so an extra
    ``type::Bug`` beside ``type::bug`` splits a board column.
    """
    wanted: dict[str, list[str]] = {}
    for name in source.labels:
        scope = scope_of(name)
        if scope is not None:
            wanted.setdefault(scope, []).append(name)
    deleted = {e.held.label.name for e in plan.extras if e.fate == "delete"}
    strays = [h.label.name for h in survey.extras if h.label.name not in deleted]
    strays += [name for name in survey.inherited if name not in source.labels]
    extra: dict[str, list[str]] = {}
    for name in strays:
        scope = scope_of(name)
        if scope in wanted:
            extra.setdefault(scope, []).append(name)
    for scope, names in sorted(extra.items()):
        have = sorted({*names, *(n for n in wanted[scope] if n in survey.present)})
        plan.drift.append(
            f"scope {scope!r}: {plan.target} has {len(have)} labels "
            f"({', '.join(have)}) where the source has {len(wanted[scope])} "
            f"({', '.join(sorted(wanted[scope]))})"
        )


def _note_case_twins(source: Source, survey: _Survey, plan: TargetPlan) -> None:
    folded = {name.casefold(): name for name in source.labels}
    for held in survey.extras:
        name = held.label.name
        twin = folded.get(name.casefold())
        if twin is not None:
            plan.notes.append(
                f"{name!r} differs from the source's {twin!r} only in case; "
                f"GitLab keeps both. --rename '{name}={twin}' would keep its "
                "issues under the source's name"
            )


# -- the writes --------------------------------------------------------------


class _Writer:
    """Builds the Changes for one target, each with the call that makes it."""

    def __init__(self, gitlab: GitLab, target: Target) -> None:
        self.gitlab = gitlab
        self.target = target

    def create(self, label: Label) -> Change:
        fields = label.fields()
        shown = {k: v for k, v in fields.items() if k != "name"}

        def run() -> None:
            self.gitlab.create_group_label(self.target.address, fields)

        return Change("create", "label", label.name, new=shown, run=run)

    def update(self, held: Held, want: Label) -> Change:
        old, new = _changed_fields(held.label, want)
        return self._put(held, old, new)

    def rename(self, held: Held, want: Label) -> Change:
        old, new = _changed_fields(held.label, want)
        old = {"name": held.label.name, **old}
        new = {"name": want.name, **new}
        return self._put(held, old, new)

    def delete(self, held: Held) -> Change:
        usage = {"issues": held.issues, "merge_requests": held.merge_requests}

        def run() -> None:
            self.gitlab.delete_group_label(self.target.address, held.id)

        return Change("delete", "label", held.label.name, old=usage, run=run)

    def _put(self, held: Held, old: Json, new: Json) -> Change:
        fields = dict(new)
        if "name" in fields:
            fields["new_name"] = fields.pop("name")

        def run() -> None:
            self.gitlab.update_group_label(self.target.address, held.id, fields)

        return Change("update", "label", held.label.name, old=old, new=new, run=run)


def _changed_fields(have: Label, want: Label) -> tuple[Json, Json]:
    diff = have.differences(want)
    old = {key: values[0] for key, values in diff.items()}
    new = {key: values[1] for key, values in diff.items()}
    if "color" in new:
        new["color"] = gitlab_color(new["color"])
    return old, new


def apply(plan: TargetPlan, on_change: Callable[[Change], None] | None = None) -> None:
    """Make the plan's writes in order; a failure stops this target only."""
    for change in plan.changes:
        if change.run is not None:
            change.run()
        plan.written += 1
        if on_change is not None:
            on_change(change)


# -- many targets ------------------------------------------------------------


def tenant_groups(gitlab: GitLab, source: Source) -> list[str]:
    """Every tenant group but the source: the top-level groups (platform.md:
    "a tenant is a top-level GitLab group")."""
    paths = [str(group["full_path"]) for group in gitlab.top_level_groups()]
    return [path for path in paths if path != source.group]


def sync_targets(
    connect: Callable[[], GitLab],
    source: Source,
    targets: Sequence[Target],
    options: SyncOptions,
    *,
    write: bool,
    jobs: int = 1,
    on_done: Callable[[TargetPlan], None] | None = None,
) -> list[TargetPlan]:
    """Plan each target and, with ``write``, apply its plan; in parallel.

    Each worker thread gets its own client from ``connect``. A target that
    fails is recorded as failed; the others go on. Plans come back in the
    order of ``targets``.
    """
    local = threading.local()

    def client() -> GitLab:
        if not hasattr(local, "gitlab"):
            local.gitlab = connect()
        gitlab: GitLab = local.gitlab
        return gitlab

    def one(target: Target) -> TargetPlan:
        plan = TargetPlan(target.path)
        try:
            plan = plan_target(client(), source, target, options)
            if write:
                apply(plan)
        except TenantctlError as exc:
            plan.error = str(exc)
        return plan

    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        futures = {pool.submit(one, target): target for target in targets}
        # Report each target as it finishes, from this thread only.
        for future in as_completed(futures):
            if on_done is not None:
                on_done(future.result())
        return [future.result() for future in futures]
