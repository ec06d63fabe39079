"""The onboarding wizard: the questions that turn into a tenant's playbook.

The questions come in the order of issue 4: group name, tier, settings to
override, members, the tenant to copy labels from, the token lifetime. Each
one is answered by a flag of ``tenantctl onboard`` when given; otherwise it
is asked on the terminal, or, with no terminal, fails naming its flag
(questions with a natural default, the overrides and the token lifetime,
take it instead). The answers become ``<playbooks_dir>/<group>.yml``, which
the operator can read, keep and run again.

Nothing here writes to GitLab, Keycloak or Vault: the wizard only reads
(does the group exist, does the user exist, which tenants are there).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import ValidationError

from tenantctl.adapters.gitlab import GitLab
from tenantctl.config import SiteConfig
from tenantctl.errors import InputError
from tenantctl.playbook import (
    LabelsPart,
    Member,
    Overrides,
    Playbook,
    TokenPart,
    check_group_path,
    load_playbook,
)
from tenantctl.tiers import ACCESS_LEVELS, SUMMARIES, tier_defaults

Validator = Callable[[str], "bool | str"]
Saved = Literal["written", "unchanged", "declined"]

LEVELS = list(ACCESS_LEVELS)
GROUP_FLAG = "GROUP (the argument) or --playbook FILE"
MEMBER_FLAG = "--member USER:LEVEL (once per member)"


@dataclass
class Answers:
    """What the command line already answered; None or empty means ask."""

    group: str | None = None
    resume: bool = False
    tier: str | None = None
    overrides: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    labels_from: str | None = None
    token_lifetime: int | None = None
    overwrite: bool = False

    def any_given(self) -> list[str]:
        """The flags given that only the wizard uses, as typed."""
        flags = {
            "--tier": self.tier is not None,
            "--override": bool(self.overrides),
            "--member": bool(self.members),
            "--labels-from": self.labels_from is not None,
            "--token-lifetime": self.token_lifetime is not None,
            "--resume": self.resume,
            "--overwrite": self.overwrite,
        }
        return [flag for flag, given in flags.items() if given]

    def missing(self) -> list[str]:
        """The flags a run without questions still needs."""
        needed = {
            GROUP_FLAG: self.group is None,
            "--tier": self.tier is None,
            MEMBER_FLAG: not self.members,
            "--labels-from GROUP": self.labels_from is None,
        }
        return [flag for flag, absent in needed.items() if absent]


class Asker:
    """Questions on the terminal through questionary.

    Ctrl-C raises KeyboardInterrupt (questionary's ``unsafe_ask``) so that the
    caller decides what an interruption means. Questions go to stderr when it
    is a terminal, keeping stdout for results; otherwise to prompt_toolkit's
    current session (which tests point at a pipe).
    """

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}
        if sys.stderr.isatty():
            from prompt_toolkit.output import create_output

            self._options["output"] = create_output(stdout=sys.stderr)

    def text(
        self,
        message: str,
        *,
        validate: Validator | None = None,
        default: str = "",
        while_typing: bool = True,
    ) -> str:
        import questionary

        question = questionary.text(
            message,
            default=default,
            validate=validate,
            validate_while_typing=while_typing,
            **self._options,
        )
        return str(_answer(question)).strip()

    def select(
        self, message: str, choices: list[tuple[str, str]], default: str | None = None
    ) -> str:
        """One of ``choices`` (value, title pairs); returns the value."""
        import questionary

        options = [questionary.Choice(title, value=value) for value, title in choices]
        question = questionary.select(
            message, choices=options, default=default, **self._options
        )
        return str(_answer(question))

    def checkbox(self, message: str, choices: list[tuple[str, str]]) -> list[str]:
        """Any of ``choices`` (value, title pairs); returns the values."""
        import questionary

        options = [questionary.Choice(title, value=value) for value, title in choices]
        question = questionary.checkbox(message, choices=options, **self._options)
        return [str(value) for value in _answer(question)]

    def confirm(self, message: str, *, default: bool = False) -> bool:
        import questionary

        question = questionary.confirm(message, default=default, **self._options)
        return bool(_answer(question))


def _answer(question: Any) -> Any:
    """The answer; Ctrl-C, and Ctrl-D or a closed input, as KeyboardInterrupt."""
    try:
        return question.unsafe_ask()
    except EOFError:
        # No more answers can come: treat it as the operator leaving.
        raise KeyboardInterrupt from None


def missing_answers(answers: list[str], path_hint: str | None = None) -> InputError:
    """The error of a run that may not ask: it names every flag it needs."""
    hint = "pass " + ", ".join(answers)
    if path_hint:
        hint += f"; or {path_hint}"
    return InputError(
        "the onboarding wizard needs answers it may not ask for "
        "(no terminal, or --no-input)",
        hint=hint,
    )


# -- the questions, in order --------------------------------------------------


def build_playbook(
    gitlab: GitLab, config: SiteConfig, given: Answers, ask: Asker | None
) -> Playbook:
    """A playbook from ``given``, asking ``ask`` for the rest.

    With ``ask`` None every required answer must be in ``given`` (checked
    before GitLab is asked anything). Raises InputError for an answer that
    cannot be used, naming its flag.
    """
    if ask is None and given.missing():
        raise missing_answers(given.missing())

    tenant = _group(gitlab, given, ask)
    tier = _tier(given, ask)
    overrides = _overrides(given, ask, tier)
    members = _members(gitlab, given, ask)
    source = _labels_source(gitlab, given, ask, tenant)
    lifetime = _token_lifetime(config, given, ask)

    return Playbook.model_validate(
        {
            "tenant": tenant,
            "tier": tier,
            "members": members,
            "labels": LabelsPart.model_validate({"from": source}),
            "token": TokenPart(lifetime_days=lifetime),
            "overrides": overrides,
        }
    )


def path_problem(value: str) -> bool | str:
    """True for a usable group path, else why not (for as-you-type checks)."""
    if " " in value or "/" in value:
        return "no spaces or '/': a tenant is a top-level group"
    if value != value.lower():
        return "lower case only"
    try:
        check_group_path(value)
    except ValueError as exc:
        return str(exc)
    return True


def _group(gitlab: GitLab, given: Answers, ask: Asker | None) -> str:
    name = given.group
    if name is not None:
        problem = path_problem(name)
        if problem is not True:
            raise InputError(f"GROUP {name!r}: {problem}")
    while True:
        if name is None:
            assert ask is not None
            name = ask.text("Group name of the tenant:", validate=path_problem)
        if _may_use(gitlab, name, given, ask):
            return name
        name = None


def _may_use(gitlab: GitLab, name: str, given: Answers, ask: Asker | None) -> bool:
    """A new group, or an existing one the operator chose to resume."""
    if given.resume or gitlab.find_group(name) is None:
        return True
    if ask is None:
        raise InputError(
            f"GitLab group {name!r} already exists",
            hint="pass --resume to continue onboarding it, or choose another name",
        )
    return ask.confirm(
        f"GitLab group {name} already exists. Resume onboarding it?", default=False
    )


def _tier(given: Answers, ask: Asker | None) -> str:
    if given.tier is not None:
        return given.tier
    assert ask is not None
    choices = [(tier, f"{tier}: {summary}") for tier, summary in SUMMARIES.items()]
    return ask.select("Tier:", choices)


def _members(gitlab: GitLab, given: Answers, ask: Asker | None) -> list[Member]:
    if given.members:
        return _members_from_flags(gitlab, given.members)
    assert ask is not None
    members: list[Member] = []
    while True:
        username = ask.text(
            "GitLab username of a member" + (" (empty when done):" if members else ":"),
            validate=_user_check(gitlab, members),
            while_typing=False,
        )
        if not username:
            return members
        access = ask.select(
            f"Access level of {username}:",
            [(level, level) for level in LEVELS],
            default="developer",
        )
        members.append(Member.model_validate({"username": username, "access": access}))


def _user_check(gitlab: GitLab, members: list[Member]) -> Validator:
    """Checks a typed username on Enter: it must exist in GitLab."""
    taken = {member.username for member in members}

    def check(value: str) -> bool | str:
        username = value.strip()
        if not username:
            return True if members else "a tenant needs at least one member"
        if username in taken:
            return f"{username} is already a member"
        if gitlab.find_user(username) is None:
            return f"GitLab has no user {username!r}: check the spelling"
        return True

    return check


def _members_from_flags(gitlab: GitLab, flags: tuple[str, ...]) -> list[Member]:
    members: list[Member] = []
    for raw in flags:
        username, _, access = raw.partition(":")
        username, access = username.strip(), access.strip() or "developer"
        if access not in ACCESS_LEVELS:
            raise InputError(
                f"--member {raw}: unknown access level {access!r}",
                hint="use one of " + ", ".join(LEVELS),
            )
        if any(member.username == username for member in members):
            raise InputError(f"--member {raw}: {username} is given twice")
        if not username or gitlab.find_user(username) is None:
            raise InputError(
                f"--member {raw}: GitLab has no user {username!r}",
                hint="check the spelling: members need a GitLab account",
            )
        members.append(Member.model_validate({"username": username, "access": access}))
    return members


def _labels_source(
    gitlab: GitLab, given: Answers, ask: Asker | None, tenant: str
) -> str:
    if given.labels_from is not None:
        if gitlab.find_group(given.labels_from) is None:
            raise InputError(
                f"--labels-from {given.labels_from}: GitLab has no such group",
                hint="name an existing tenant, such as administrators",
            )
        return given.labels_from
    assert ask is not None
    paths = [
        str(group["full_path"])
        for group in gitlab.list_top_level_groups()
        if group["full_path"] != tenant
    ]
    if not paths:
        raise InputError(
            "GitLab has no other top-level group to copy labels from",
            hint="pass --labels-from GROUP",
        )
    default = LabelsPart().source
    return ask.select(
        "Copy the board labels from which tenant?",
        [(path, path) for path in paths],
        default=default if default in paths else None,
    )


def _token_lifetime(config: SiteConfig, given: Answers, ask: Asker | None) -> int:
    if given.token_lifetime is not None:
        return given.token_lifetime
    default = config.tokens.lifetime_days
    if ask is None:
        return default
    answer = ask.text(
        "Lifetime of the group access token, in days (1-365):",
        default=str(default),
        validate=_lifetime_problem,
    )
    return int(answer)


def _lifetime_problem(value: str) -> bool | str:
    if not value.strip().isdigit() or not 1 <= int(value) <= 365:
        return "a whole number of days from 1 to 365"
    return True


# -- overrides ------------------------------------------------------------------


def _overrides(given: Answers, ask: Asker | None, tier: str) -> Overrides:
    if given.overrides:
        return parse_overrides(given.overrides)
    if ask is None:
        return Overrides()
    defaults = tier_defaults(tier)
    names = ask.checkbox(
        "Settings to override (space picks, enter goes on; none is fine):",
        [
            (name, f"{name} (the {tier} tier: {_tier_value(defaults, name)})")
            for name in Overrides.model_fields
        ],
    )
    values: dict[str, Any] = {name: _ask_value(ask, name) for name in names}
    return Overrides.model_validate(values)


def _ask_value(ask: Asker, name: str) -> Any:
    options, several = override_options(name)
    pairs = [(option, option) for option in options]
    if several:
        return ask.checkbox(f"{name}:", pairs)
    return ask.select(f"{name}:", pairs)


def override_options(name: str) -> tuple[list[str], bool]:
    """The values ``Overrides.<name>`` accepts, and whether it takes several."""
    annotation = Overrides.model_fields[name].annotation
    inner = next(arg for arg in get_args(annotation) if arg is not type(None))
    if inner is bool:
        return ["true", "false"], False
    if get_origin(inner) is list:
        return [str(value) for value in get_args(get_args(inner)[0])], True
    return [str(value) for value in get_args(inner)], False


def _tier_value(defaults: Any, name: str) -> str:
    value = getattr(defaults, name)
    if name == "token_access_level":
        return next(level for level, number in ACCESS_LEVELS.items() if number == value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def parse_overrides(flags: tuple[str, ...]) -> Overrides:
    """``--override KEY=VALUE`` flags as Overrides; InputError naming a bad one."""
    values: dict[str, Any] = {}
    for raw in flags:
        key, sep, value = raw.partition("=")
        key = key.strip()
        if not sep or key not in Overrides.model_fields:
            raise InputError(
                f"--override {raw}: expected KEY=VALUE with a known KEY",
                hint="keys: " + ", ".join(Overrides.model_fields),
            )
        several = override_options(key)[1]
        values[key] = [v.strip() for v in value.split(",")] if several else value
    try:
        return Overrides.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0])
        options = ", ".join(override_options(key)[0])
        raise InputError(
            f"--override {key}: {error['msg']}", hint=f"use one of {options}"
        ) from None


# -- the playbook file ----------------------------------------------------------


def playbook_path(config: SiteConfig, tenant: str) -> Path:
    """Where the wizard keeps a tenant's playbook (relative to the cwd)."""
    return Path(config.playbooks_dir) / f"{tenant}.yml"


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key, as people write YAML by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def render(book: Playbook, path: Path) -> str:
    """The playbook as a commented YAML file that loads back as ``book``."""
    header = [
        f"# Tenant playbook: {book.tenant}, on the {book.tier.value} tier",
        f"# ({SUMMARIES[book.tier.value]}).",
        "# Written by the tenantctl onboard wizard. Edit it if you like, then",
        f"# apply it again with: tenantctl onboard --playbook {path}",
        "# The fields are described in docs/playbooks.md.",
    ]
    sections: list[dict[str, Any]] = [
        {"tenant": book.tenant, "tier": book.tier.value},
        {"members": [m.model_dump() for m in book.members]},
        {"labels": {"from": book.labels.source}},
        {"token": {"lifetime_days": book.token.lifetime_days}},
    ]
    chosen = book.overrides.model_dump(exclude_none=True)
    if chosen:
        sections.append({"overrides": chosen})
    body = "\n".join(
        yaml.dump(section, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
        for section in sections
    )
    return "\n".join(header) + "\n" + body


def save(
    path: Path, text: str, book: Playbook, *, overwrite: bool, ask: Asker | None
) -> Saved:
    """Write ``text`` to ``path`` unless a file there already says the same.

    A different file there is replaced only with ``overwrite`` or when the
    operator agrees; without a terminal that is an InputError naming
    --overwrite.
    """
    if path.exists():
        if _same_playbook(path, book):
            return "unchanged"
        if not overwrite and not _may_replace(path, ask):
            return "declined"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return "written"


def _same_playbook(path: Path, book: Playbook) -> bool:
    try:
        return load_playbook(path) == book
    except InputError:
        # An unreadable or invalid file is "different": it may be replaced.
        return False


def _may_replace(path: Path, ask: Asker | None) -> bool:
    if ask is None:
        raise InputError(
            f"{path} exists and says something else than these answers",
            hint=f"pass --overwrite to replace it, or --playbook {path} to use it",
        )
    return ask.confirm(f"{path} exists and differs. Replace it?", default=False)


@dataclass
class Outcome:
    """What the wizard made: the playbook, its file (as it now reads), and
    whether that file was written by this run."""

    book: Playbook
    path: Path
    text: str
    saved: Saved


def run(
    gitlab: GitLab, config: SiteConfig, given: Answers, ask: Asker | None
) -> Outcome:
    """Ask the questions and keep the answers as the tenant's playbook file."""
    book = build_playbook(gitlab, config, given, ask)
    path = playbook_path(config, book.tenant)
    text = render(book, path)
    saved = save(path, text, book, overwrite=given.overwrite, ask=ask)
    if saved == "unchanged":
        # Keep showing the operator's own file, comments and all.
        text = path.read_text(encoding="utf-8")
    return Outcome(book=book, path=path, text=text, saved=saved)
