"""The site configuration: where GitLab, Keycloak and Vault are, and how.

One file, ``tenantctl.yaml`` (``--config`` or ``TENANTCTL_CONFIG`` name
another). Credentials never live in it: they come from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenantctl import yamlfile
from tenantctl.errors import InputError
from tenantctl.secrets import Secret

DEFAULT_PATH = Path("tenantctl.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsSettings(Section):
    url: str
    ssl_verify: bool | str = Field(
        default=True, description="false, true, or the path of a CA bundle"
    )
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class GitLabSettings(TlsSettings):
    max_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        description="retries of a 429, a 5xx answer or a failed connection",
    )
    per_page: int = Field(default=100, ge=1, le=100)


class KeycloakSettings(TlsSettings):
    realm: str
    dashboard_client_id: str
    admin_realm: str = "master"
    admin_client_id: str = "admin-cli"


class VaultSettings(TlsSettings):
    mount: str = "secret"
    prefix: str = "tenantctl"
    namespace: str | None = None
    auth: Literal["token", "jwt"] = Field(
        default="token",
        description="token: VAULT_TOKEN; jwt: a JWT auth login (VAULT_AUTH overrides)",
    )
    jwt_role: str | None = Field(
        default=None, description="the JWT auth method's role (VAULT_ROLE overrides)"
    )
    jwt_mount: str = Field(
        default="jwt", description="where the JWT auth method is enabled"
    )

    @field_validator("jwt_mount")
    @classmethod
    def _bare_mount(cls, value: str) -> str:
        if not value or value.strip("/") != value or "//" in value:
            raise ValueError(
                "a path such as jwt or gitlab/jwt: no leading, trailing or double '/'"
            )
        return value

    @field_validator("mount", "prefix")
    @classmethod
    def _no_slashes_at_ends(cls, value: str) -> str:
        if value.strip("/") != value or "//" in value:
            raise ValueError("no leading, trailing or double '/'")
        if value.startswith("data/") or "/data/" in f"/{value}/":
            raise ValueError("leave out 'data/': KV v2 paths are relative to the mount")
        return value


class PipelineSettings(Section):
    project: str = "administrators/cicd"
    branch: str = "main"


class AllowList(Section):
    file: str
    format: Literal["yaml", "json", "js"]
    locator: str = Field(description="dotted key path (yaml, json) or identifier (js)")


class DashboardSettings(Section):
    project: str = "administrators/dashboard"
    branch: str = "main"
    allowlist: AllowList
    legacy_variables: dict[str, str] = Field(
        default_factory=lambda: {
            "administrators": "GITLAB_TOKEN_ADMIN",
            "developers": "GITLAB_TOKEN_DEV",
        }
    )


class TokenSettings(Section):
    lifetime_days: int = Field(default=90, ge=1, le=365)
    name: str = "tenantctl"


class SiteConfig(Section):
    gitlab: GitLabSettings
    keycloak: KeycloakSettings
    vault: VaultSettings
    pipeline: PipelineSettings = PipelineSettings()
    dashboard: DashboardSettings
    tokens: TokenSettings = TokenSettings()
    playbooks_dir: str = "playbooks"
    journal: str | None = Field(
        default=None,
        description="audit journal; default: $XDG_STATE_HOME/tenantctl/journal.jsonl",
    )


@dataclass(frozen=True)
class JwtLogin:
    """A Vault JWT auth login: the role to ask for, the JWT, and the path the
    auth method is enabled at."""

    role: str
    jwt: Secret
    mount: str


VaultCredential = Secret | JwtLogin


@dataclass(frozen=True)
class Credentials:
    """What tenantctl authenticates with, read from the environment only."""

    gitlab_token: Secret
    vault_token: Secret
    keycloak_client_secret: Secret | None
    keycloak_username: str | None
    keycloak_password: Secret | None


def config_path(explicit: str | None) -> Path:
    """The config file to read: the flag, then TENANTCTL_CONFIG, then ./."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("TENANTCTL_CONFIG")
    return Path(env) if env else DEFAULT_PATH


def load_config(path: Path) -> SiteConfig:
    """Read and validate the site configuration at ``path``."""
    doc = yamlfile.load(path, "site config")
    return yamlfile.validate(doc, SiteConfig, "site config")


def _env_secret(name: str) -> Secret | None:
    value = os.environ.get(name, "")
    return Secret(value) if value else None


def vault_auth_method(settings: VaultSettings) -> str:
    """``token`` or ``jwt``: VAULT_AUTH, else the config's ``vault.auth``."""
    method = os.environ.get("VAULT_AUTH", "").strip().lower() or settings.auth
    if method not in ("token", "jwt"):
        raise InputError(
            f"VAULT_AUTH={method!r} is not a Vault login method tenantctl knows",
            hint="use VAULT_AUTH=token (with VAULT_TOKEN) or VAULT_AUTH=jwt "
            "(with VAULT_ROLE and VAULT_JWT or VAULT_JWT_FILE)",
        )
    return method


def vault_credential(settings: VaultSettings) -> tuple[VaultCredential | None, str]:
    """What to log in to Vault with, from the environment, and what to name
    when it is missing (then the credential is None). An unreadable
    VAULT_JWT_FILE is an InputError at once."""
    if vault_auth_method(settings) == "token":
        return _env_secret("VAULT_TOKEN"), "VAULT_TOKEN"
    role = os.environ.get("VAULT_ROLE", "").strip() or settings.jwt_role
    jwt = _jwt_from_env()
    missing = [
        name
        for name, value in (
            ("VAULT_ROLE (or vault.jwt_role)", role),
            ("VAULT_JWT or VAULT_JWT_FILE", jwt),
        )
        if not value
    ]
    if missing or role is None or jwt is None:
        return None, " and ".join(missing) + " (VAULT_AUTH=jwt)"
    return JwtLogin(role=role, jwt=jwt, mount=settings.jwt_mount), ""


def _jwt_from_env() -> Secret | None:
    """VAULT_JWT, or the content of the file VAULT_JWT_FILE names."""
    value, path = _env_secret("VAULT_JWT"), os.environ.get("VAULT_JWT_FILE", "")
    if value is not None and path:
        raise InputError(
            "both VAULT_JWT and VAULT_JWT_FILE are set",
            hint="set one of them: the JWT itself, or the file that holds it",
        )
    if not path:
        return value
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(
            f"cannot read VAULT_JWT_FILE {path}: {reason}",
            hint="point VAULT_JWT_FILE at a readable file that holds the JWT",
        ) from None
    if not text:
        raise InputError(
            f"VAULT_JWT_FILE {path} is empty",
            hint="the file must hold the JWT (in GitLab CI: an id_tokens token)",
        )
    return Secret(text)


def vault_token(settings: VaultSettings, credential: VaultCredential) -> Secret:
    """The Vault token to use: VAULT_TOKEN as given, or the client token of
    a JWT login (CredentialError when Vault refuses it)."""
    if isinstance(credential, Secret):
        return credential
    # Imported here: the Vault adapter imports this module for its settings.
    from tenantctl.adapters.vault import jwt_login

    return jwt_login(settings, credential)


def load_credentials(config: SiteConfig) -> Credentials:
    """Read every credential from the environment; name the missing one.
    With VAULT_AUTH=jwt, log in to Vault once everything is there."""
    gitlab = _env_secret("GITLAB_TOKEN")
    vault, vault_name = vault_credential(config.vault)
    missing = [
        name
        for name, value in (("GITLAB_TOKEN", gitlab), (vault_name, vault))
        if value is None
    ]
    client_secret = _env_secret("KEYCLOAK_CLIENT_SECRET")
    username = os.environ.get("KEYCLOAK_USERNAME") or None
    password = _env_secret("KEYCLOAK_PASSWORD")
    if client_secret is None and (username is None or password is None):
        missing.append(
            "KEYCLOAK_CLIENT_SECRET (or KEYCLOAK_USERNAME and KEYCLOAK_PASSWORD)"
        )
    if missing:
        raise InputError(
            "missing credentials in the environment: " + ", ".join(missing),
            hint="credentials are read from environment variables only, "
            "never from tenantctl.yaml",
        )

    assert gitlab is not None and vault is not None
    return Credentials(
        gitlab_token=gitlab,
        vault_token=vault_token(config.vault, vault),
        keycloak_client_secret=client_secret,
        keycloak_username=username,
        keycloak_password=password,
    )
