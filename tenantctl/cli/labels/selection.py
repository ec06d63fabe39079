"""From ``labels`` arguments to a source, its targets and a GitLab client."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tenantctl import labels
from tenantctl.adapters.gitlab import GitLab
from tenantctl.cli.app import App
from tenantctl.errors import InputError
from tenantctl.secrets import Secret


@dataclass
class Selection:
    """What a ``labels diff`` or ``labels sync`` run works on."""

    source: labels.Source
    targets: list[labels.Target]
    options: labels.SyncOptions
    connect: Callable[[], GitLab]


def select(
    app: App,
    groups: Sequence[str],
    *,
    from_file: Path | None,
    all_tenants: bool,
    include_inherited: bool,
    renames: Sequence[str],
    prune: bool,
    force: bool,
) -> Selection:
    """Read the source and work out the targets; InputError for bad usage."""
    if force and not prune:
        raise InputError("--force only makes sense with --prune")
    if from_file is not None and include_inherited:
        raise InputError("--include-inherited applies to a SOURCE group, not a file")

    connect = connector(app)
    gitlab = connect()
    source, named = _source(gitlab, groups, from_file, include_inherited)
    pairs = [*source.renames.items(), *labels.parse_renames(renames).items()]
    source.renames = labels.pair_renames(pairs)
    labels.check_renames(source)

    paths = list(named)
    if all_tenants:
        paths += labels.tenant_groups(gitlab, source)
    targets = [labels.Target(path) for path in _targets(source, paths)]
    options = labels.SyncOptions(prune=prune, force=force)
    return Selection(source=source, targets=targets, options=options, connect=connect)


def _source(
    gitlab: GitLab,
    groups: Sequence[str],
    from_file: Path | None,
    include_inherited: bool,
) -> tuple[labels.Source, Sequence[str]]:
    if from_file is not None:
        return labels.load_template(from_file), groups
    if not groups:
        raise InputError(
            "no source given", hint="name a SOURCE group, or pass --from-file FILE"
        )
    source = labels.group_source(gitlab, groups[0], include_inherited=include_inherited)
    return source, groups[1:]


def _targets(source: labels.Source, paths: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(path.strip("/") for path in paths))
    if source.group is not None and source.group in unique:
        raise InputError(f"{source.group} is the source; it cannot be a target too")
    if not unique:
        raise InputError(
            "no target groups", hint="name TARGET groups, or pass --all-tenants"
        )
    return unique


def connector(app: App) -> Callable[[], GitLab]:
    """A function that makes a new GitLab client for the site (one a thread)."""
    config = app.config()
    token = os.environ.get("GITLAB_TOKEN")
    if not token:
        raise InputError(
            "missing credentials in the environment: GITLAB_TOKEN",
            hint="credentials are read from environment variables only",
        )
    secret = Secret(token)
    return lambda: GitLab(config.gitlab, secret)
