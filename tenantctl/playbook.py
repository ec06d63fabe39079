"""Tenant playbooks: the short YAML file that says what a tenant should be."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenantctl import yamlfile
from tenantctl.tiers import ACCESS_LEVELS, TierSettings, tier_defaults

# GitLab's path rules (doc/user/reserved_names.md, api-notes "Groups"), and
# lower case only: tenant names become Keycloak groups, variable names and
# file names, where case differences cause collisions.
GROUP_PATH = re.compile(r"^[a-z0-9_][a-z0-9_.-]*$")
_BAD_ENDINGS = (".", ".git", ".atom")


def check_group_path(value: str) -> str:
    """``value`` if it is a usable tenant group path; ValueError saying why."""
    if not 2 <= len(value) <= 255:
        raise ValueError("must be 2 to 255 characters long")
    if not GROUP_PATH.match(value):
        raise ValueError(
            "use lower-case letters, digits, '_', '-' and '.', "
            "not starting with '-' or '.'"
        )
    if value.endswith(_BAD_ENDINGS):
        raise ValueError("must not end in '.', '.git' or '.atom'")
    return value


class Tier(StrEnum):
    strict = "strict"
    standard = "standard"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Member(Strict):
    username: str = Field(min_length=1)
    access: Literal["guest", "reporter", "developer", "maintainer", "owner"] = (
        "developer"
    )

    @property
    def access_level(self) -> int:
        return ACCESS_LEVELS[self.access]


class KeycloakPart(Strict):
    members: list[str] | None = Field(
        default=None,
        description="Keycloak usernames; default: the GitLab members' usernames",
    )


class LabelsPart(Strict):
    source: str = Field(default="administrators", alias="from")


class RunnerPart(Strict):
    description: str | None = None
    config_file: str | None = Field(
        default=None,
        description="where to write the runner host's config.toml section",
    )


class TokenPart(Strict):
    lifetime_days: int | None = Field(default=None, ge=1, le=365)


class Overrides(Strict):
    security_scans: Literal["blocking", "advisory"] | None = None
    staging_deploy: Literal["manual", "automatic"] | None = None
    runner_locked: bool | None = None
    runner_protected: bool | None = None
    token_scopes: list[Literal["api", "read_api", "read_repository"]] | None = None
    token_access_level: (
        Literal["guest", "reporter", "developer", "maintainer", "owner"] | None
    ) = None


class Playbook(Strict):
    """One tenant, as its playbook describes it."""

    tenant: str
    tier: Tier
    name: str | None = None
    description: str = ""
    parent: str | None = None
    visibility: Literal["private", "internal", "public"] = "private"
    members: list[Member] = Field(default_factory=list)
    keycloak: KeycloakPart = KeycloakPart()
    labels: LabelsPart = LabelsPart()
    runner: RunnerPart = RunnerPart()
    token: TokenPart = TokenPart()
    overrides: Overrides = Overrides()

    @field_validator("tenant")
    @classmethod
    def _tenant_path(cls, value: str) -> str:
        return check_group_path(value)

    @property
    def display_name(self) -> str:
        return self.name or self.tenant

    @property
    def full_path(self) -> str:
        return f"{self.parent}/{self.tenant}" if self.parent else self.tenant

    @property
    def keycloak_members(self) -> list[str]:
        if self.keycloak.members is not None:
            return self.keycloak.members
        return [member.username for member in self.members]

    def settings(self) -> TierSettings:
        """The tier's defaults with this playbook's overrides applied."""
        chosen = self.overrides.model_dump(exclude_none=True)
        if "token_access_level" in chosen:
            chosen["token_access_level"] = ACCESS_LEVELS[chosen["token_access_level"]]
        return tier_defaults(self.tier.value).model_copy(update=chosen)


def load_playbook(path: Path) -> Playbook:
    """Read and validate a playbook; InputError naming file, line and field."""
    doc = yamlfile.load(path, "playbook")
    return yamlfile.validate(doc, Playbook, "playbook")
