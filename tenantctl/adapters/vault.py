"""Vault KV v2, through hvac: tenantctl's system of record for secrets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import hvac
import requests
from hvac import exceptions as vexc
from requests.adapters import HTTPAdapter

from tenantctl.adapters.transport import (
    log_http,
    retry_policy,
    status_hint,
    transport_error,
)
from tenantctl.config import JwtLogin, VaultSettings
from tenantctl.errors import CredentialError, RemoteError
from tenantctl.secrets import Secret

SYSTEM = "Vault"
Json = dict[str, Any]


@dataclass(frozen=True)
class Record:
    """One KV v2 secret: its data (secrets wrapped) and its version."""

    path: str
    data: Json
    version: int
    custom_metadata: dict[str, str]


class Vault:
    """A KV v2 mount, under tenantctl's path prefix."""

    def __init__(self, settings: VaultSettings, token: Secret) -> None:
        self.settings = settings
        self.url = settings.url
        self._client = _hvac_client(settings, token)
        self._kv = self._client.secrets.kv.v2

    def path(self, *parts: str) -> str:
        return "/".join([self.settings.prefix, *parts])

    @contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Translate hvac and requests failures for ``what``."""
        try:
            yield
        except vexc.VaultError as exc:
            status = getattr(exc, "status_code", None) or _status_of(exc)
            raise RemoteError(
                SYSTEM,
                f"{what} failed: {status or ''} {exc}".strip(),
                status=status,
                url=self.url,
                hint=_hint(status),
            ) from None
        except requests.RequestException as exc:
            raise transport_error(SYSTEM, self.url, "vault", exc) from None

    def read(self, path: str, secret_keys: tuple[str, ...] = ()) -> Record | None:
        """The latest version at ``path``; None when absent or deleted."""
        with self.errors(f"reading {self.settings.mount}/{path}"):
            try:
                answer = self._kv.read_secret_version(
                    path=path,
                    mount_point=self.settings.mount,
                    raise_on_deleted_version=True,
                )
            except vexc.InvalidPath:
                return None
        data = dict(answer["data"]["data"] or {})
        for key in secret_keys:
            if isinstance(data.get(key), str):
                data[key] = Secret(data[key])
        metadata = answer["data"]["metadata"]
        return Record(
            path=path,
            data=data,
            version=int(metadata["version"]),
            custom_metadata=dict(metadata.get("custom_metadata") or {}),
        )

    def write(self, path: str, data: Json, cas: int | None = None) -> int:
        """Write a new version (check-and-set when ``cas`` is given)."""
        plain = {k: v.reveal() if isinstance(v, Secret) else v for k, v in data.items()}
        with self.errors(f"writing {self.settings.mount}/{path}"):
            answer = self._kv.create_or_update_secret(
                path=path, secret=plain, cas=cas, mount_point=self.settings.mount
            )
        return int(answer["data"]["version"])

    def soft_delete(self, path: str) -> None:
        """Delete the latest version (KV v2 soft delete): the data of every
        version is kept, and ``vault kv undelete`` brings it back."""
        with self.errors(f"deleting {self.settings.mount}/{path}"):
            self._kv.delete_latest_version_of_secret(
                path=path, mount_point=self.settings.mount
            )

    def set_custom_metadata(self, path: str, metadata: dict[str, str]) -> None:
        with self.errors(f"writing metadata of {self.settings.mount}/{path}"):
            self._kv.update_metadata(
                path=path,
                custom_metadata=metadata,
                mount_point=self.settings.mount,
            )

    def write_if(self, path: str, data: Json, cas: int) -> int | None:
        """Write a new version only if ``cas`` is the current version (0: only
        if the key has no versions); the new version, or None when another
        writer came first."""
        try:
            return self.write(path, data, cas=cas)
        except RemoteError as exc:
            if exc.status == 400 and "check-and-set" in exc.message:
                return None
            raise

    def current_version(self, path: str) -> int:
        """The key's current version number (0 when it has none), counting
        soft-deleted versions, as check-and-set does."""
        with self.errors(f"reading metadata of {self.settings.mount}/{path}"):
            try:
                answer = self._kv.read_secret_metadata(
                    path=path, mount_point=self.settings.mount
                )
            except vexc.InvalidPath:
                return 0
        return int(answer["data"].get("current_version") or 0)

    def list_folder(self, path: str) -> list[str]:
        """The names directly under ``path`` (folders end in ``/``); empty
        when there are none."""
        with self.errors(f"listing {self.settings.mount}/{path}"):
            try:
                answer = self._kv.list_secrets(
                    path=path, mount_point=self.settings.mount
                )
            except vexc.InvalidPath:
                return []
        return [str(key) for key in answer["data"].get("keys") or []]

    def check_access(self) -> None:
        with self.errors("checking VAULT_TOKEN"):
            self._client.auth.token.lookup_self()


def _hvac_client(settings: VaultSettings, token: Secret | None) -> hvac.Client:
    """An hvac client with our retries, timeout and redacting HTTP log."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry_policy(3))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    log_http(session, SYSTEM)
    return hvac.Client(
        url=settings.url,
        token=token.reveal() if token is not None else None,
        namespace=settings.namespace,
        verify=settings.ssl_verify,
        timeout=int(settings.timeout),
        session=session,
    )


def jwt_login(settings: VaultSettings, login: JwtLogin) -> Secret:
    """The client token of a login with ``login``'s JWT through Vault's JWT
    auth method; CredentialError (exit 2) naming Vault's reason when Vault
    refuses it. The JWT and the token never reach a message or a log."""
    client = _hvac_client(settings, None)
    where = f"auth/{login.mount}"
    try:
        answer = client.auth.jwt.jwt_login(
            role=login.role, jwt=login.jwt.reveal(), use_token=False, path=login.mount
        )
    except (vexc.InvalidRequest, vexc.Forbidden, vexc.InvalidPath) as exc:
        reason = ", ".join(exc.errors or []) or exc.args[0] or "refused"
        raise CredentialError(
            f"{SYSTEM}: JWT login as role {login.role!r} at {where} refused: {reason}",
            hint=_login_hint(reason, login),
        ) from None
    except vexc.VaultError as exc:
        status = _status_of(exc)
        raise RemoteError(
            SYSTEM,
            f"JWT login at {where} failed: {status or ''} {exc}".strip(),
            status=status,
            url=settings.url,
            hint=_hint(status),
        ) from None
    except requests.RequestException as exc:
        raise transport_error(SYSTEM, settings.url, "vault", exc) from None
    return Secret(str(answer["auth"]["client_token"]))


def _login_hint(reason: str, login: JwtLogin) -> str:
    """What to change, for the refusals of Vault's JWT auth ``path_login.go``."""
    hints = {
        "could not be found": f"check VAULT_ROLE (or vault.jwt_role) against the "
        f"roles of auth/{login.mount} (vault list auth/{login.mount}/role)",
        "audience": "the JWT's aud claim must be one of the role's bound_audiences "
        "(in GitLab CI: the aud of the id_tokens entry)",
        "expired": "the JWT has expired: use a fresh one (a GitLab id_token lives "
        "as long as its job)",
        "bound claim": "the role's bound_claims do not admit this JWT (project, "
        "ref or branch): fix the role, or run from an allowed project and ref",
        "permission denied": f"is the JWT auth method enabled at auth/{login.mount}? "
        "(set vault.jwt_mount to its path)",
        "issuer": "the JWT's iss claim differs from the auth method's bound_issuer",
        "signature": "the JWT was not signed by a key the auth method trusts",
    }
    found = next((hint for key, hint in hints.items() if key in reason), None)
    return found or f"check the role {login.role!r} of auth/{login.mount} and the JWT"


def _status_of(exc: vexc.VaultError) -> int | None:
    codes = {
        vexc.InvalidRequest: 400,
        vexc.Unauthorized: 401,
        vexc.Forbidden: 403,
        vexc.InvalidPath: 404,
        vexc.RateLimitExceeded: 429,
        vexc.InternalServerError: 500,
        vexc.VaultDown: 503,
    }
    return next((code for kind, code in codes.items() if isinstance(exc, kind)), None)


def _hint(status: int | None) -> str | None:
    if status == 403:
        return (
            "VAULT_TOKEN is invalid or its policy does not allow this path "
            "(Vault answers 403 for both)"
        )
    if status == 503:
        return "Vault is sealed or in standby; unseal it or try again"
    return status_hint(status, "VAULT_TOKEN")
