"""Keycloak, through python-keycloak's admin client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak import exceptions as kcexc

from tenantctl.adapters.transport import (
    log_http,
    retry_policy,
    status_hint,
    transport_error,
)
from tenantctl.config import Credentials, KeycloakSettings
from tenantctl.errors import RemoteError

log = logging.getLogger(__name__)

SYSTEM = "Keycloak"
Json = dict[str, Any]


class Keycloak:
    """The realm's admin API as tenantctl uses it."""

    def __init__(self, settings: KeycloakSettings, credentials: Credentials) -> None:
        self.settings = settings
        self.url = settings.url
        self.realm = settings.realm
        secret = credentials.keycloak_client_secret
        password = credentials.keycloak_password
        self.credential = (
            "KEYCLOAK_CLIENT_SECRET"
            if secret is not None
            else "KEYCLOAK_USERNAME/KEYCLOAK_PASSWORD"
        )
        connection = KeycloakOpenIDConnection(
            server_url=settings.url,
            realm_name=settings.realm,
            user_realm_name=settings.admin_realm,
            client_id=settings.admin_client_id,
            client_secret_key=secret.reveal() if secret is not None else None,
            username=None if secret is not None else credentials.keycloak_username,
            password=password.reveal() if secret is None and password else None,
            verify=settings.ssl_verify,
            timeout=int(settings.timeout),
            max_retries=retry_policy(3),  # type: ignore[arg-type]
        )
        # python-keycloak keeps its requests session private; the hook is the
        # only way to log its calls like the other systems'.
        log_http(connection._s, SYSTEM)
        self._admin = KeycloakAdmin(connection=connection)

    @contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Translate python-keycloak and requests failures for ``what``."""
        try:
            yield
        except kcexc.KeycloakConnectionError as exc:
            raise RemoteError(
                SYSTEM,
                f"cannot reach {self.url} ({what}): {_message(exc)}",
                url=self.url,
                hint="check keycloak.url in the site config and that it runs",
            ) from None
        except kcexc.KeycloakError as exc:
            status = exc.response_code
            detail = _message(exc).removeprefix(f"{status}: ")
            raise RemoteError(
                SYSTEM,
                f"{what} failed: {status} {detail}".strip(),
                status=status,
                url=self.url,
                hint=status_hint(status, self.credential),
            ) from None
        except requests.RequestException as exc:
            raise transport_error(SYSTEM, self.url, "keycloak", exc) from None

    def check_access(self) -> None:
        """Log in now, so bad credentials are named as such. A wrong user
        password is a 400 ``invalid_grant`` in Keycloak (a wrong client
        secret a 401): both are reported as a refused credential."""
        try:
            with self.errors(f"logging in to realm {self.settings.admin_realm}"):
                self._admin.connection.get_token()
        except RemoteError as exc:
            if exc.status == 400 and "invalid_grant" in exc.message:
                raise RemoteError(
                    SYSTEM,
                    exc.message.removeprefix(f"{SYSTEM}: "),
                    status=401,
                    url=self.url,
                    hint=status_hint(401, self.credential),
                ) from None
            raise

    # -- groups ----------------------------------------------------------

    def find_group(self, name: str) -> Json | None:
        """The top-level group called exactly ``name``, or None."""
        with self.errors(f"looking up group {name}"):
            try:
                group = self._admin.get_group_by_path(f"/{name}")
            except kcexc.KeycloakGetError as exc:
                if exc.response_code == 404:
                    return None
                raise
        return dict(group)

    def groups_named_like(self, name: str) -> list[Json]:
        """Top-level groups whose name equals ``name`` ignoring case."""
        with self.errors(f"searching groups like {name}"):
            found = self._admin.get_groups({"search": name, "exact": False})
        return [g for g in found if str(g.get("name", "")).lower() == name.lower()]

    def create_group(self, name: str) -> str:
        with self.errors(f"creating group {name}"):
            group_id = self._admin.create_group({"name": name})
        assert group_id is not None
        return str(group_id)

    def delete_group(self, group_id: str) -> None:
        """Delete the group, its subgroups, memberships and role mappings."""
        with self.errors(f"deleting group {group_id}"):
            self._admin.delete_group(group_id)

    def group_member_names(self, group_id: str) -> set[str]:
        with self.errors(f"listing members of group {group_id}"):
            members = self._admin.get_group_members(group_id)
        return {str(m["username"]) for m in members}

    def find_user(self, username: str) -> Json | None:
        """The user called ``username``; Keycloak keeps usernames lower-case."""
        with self.errors(f"looking up user {username}"):
            users = self._admin.get_users({"username": username, "exact": True})
        wanted = username.lower()
        return next((dict(u) for u in users if u["username"] == wanted), None)

    def add_user_to_group(self, user_id: str, group_id: str) -> None:
        with self.errors(f"adding user {user_id} to group {group_id}"):
            self._admin.group_user_add(user_id, group_id)

    # -- the dashboard client and its mappers ----------------------------

    def client_uuid(self, client_id: str) -> str:
        with self.errors(f"looking up client {client_id}"):
            uuid = self._admin.get_client_id(client_id)
        if uuid is None:
            raise RemoteError(
                SYSTEM,
                f"client {client_id!r} not found in realm {self.realm}",
                status=404,
                url=self.url,
                hint="check keycloak.dashboard_client_id in the site config",
            )
        return str(uuid)

    def client_mappers(self, client_uuid: str) -> list[Json]:
        with self.errors("listing the dashboard client's mappers"):
            return [dict(m) for m in self._admin.get_mappers_from_client(client_uuid)]

    def add_mapper(self, client_uuid: str, payload: Json) -> None:
        with self.errors(f"adding mapper {payload['name']}"):
            self._admin.add_mapper_to_client(client_uuid, payload)

    def update_mapper(self, client_uuid: str, mapper_id: str, payload: Json) -> None:
        with self.errors(f"updating mapper {payload['name']}"):
            self._admin.update_client_mapper(client_uuid, mapper_id, payload)

    def remove_mapper(self, client_uuid: str, mapper_id: str) -> None:
        with self.errors(f"removing mapper {mapper_id}"):
            self._admin.remove_client_mapper(client_uuid, mapper_id)

    def example_access_token(self, client_uuid: str, user_id: str) -> Json:
        """The access-token payload Keycloak says the user would get."""
        path = (
            f"admin/realms/{self.realm}/clients/{client_uuid}/evaluate-scopes/"
            "generate-example-access-token"
        )
        with self.errors("generating an example access token"):
            response = self._admin.connection.raw_get(
                path, userId=user_id, scope="openid"
            )
            data = kcexc.raise_error_from_response(response, kcexc.KeycloakGetError)
        assert isinstance(data, dict)
        return data

    # -- realm roles -----------------------------------------------------

    def find_realm_role(self, name: str) -> Json | None:
        with self.errors(f"looking up realm role {name}"):
            try:
                return dict(self._admin.get_realm_role(name))
            except kcexc.KeycloakGetError as exc:
                if exc.response_code == 404:
                    return None
                raise

    def create_realm_role(self, name: str, description: str) -> Json:
        with self.errors(f"creating realm role {name}"):
            self._admin.create_realm_role({"name": name, "description": description})
            return dict(self._admin.get_realm_role(name))

    def delete_realm_role(self, name: str) -> None:
        """Delete the realm role; Keycloak drops every mapping of it."""
        with self.errors(f"deleting realm role {name}"):
            self._admin.delete_realm_role(name)

    def group_realm_role_names(self, group_id: str) -> set[str]:
        with self.errors(f"listing realm roles of group {group_id}"):
            roles = self._admin.get_group_realm_roles(group_id)
        return {str(role["name"]) for role in roles}

    def map_realm_role(self, group_id: str, role: Json) -> None:
        with self.errors(f"mapping realm role {role['name']} to group {group_id}"):
            self._admin.assign_group_realm_roles(group_id, [role])


def _message(exc: kcexc.KeycloakError) -> str:
    message = exc.error_message
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message or "")
