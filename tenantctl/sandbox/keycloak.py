"""Keycloak emulator: the admin REST API and OIDC token endpoint of Keycloak 26.

Served without the ``/auth`` prefix, as Keycloak 17+ serves them, for
python-keycloak 7.x (``KeycloakAdmin``, ``KeycloakOpenIDConnection``,
``KeycloakOpenID``). Tokens are JWTs signed HS256 with a per-sandbox key; the
claims are computed by applying protocol mappers the way Keycloak does, and
``evaluate-scopes`` calls the very same code so the two always agree.

Behaviour notes (each handler names its source):

- Group names conflict only on exact, case-sensitive equality, as Keycloak 26
  checks siblings with ``Objects.equals`` and the default dev database (H2)
  compares case-sensitively (keycloak ``GroupResource.java``; issue
  keycloak#12337 shows MySQL's case-insensitive collation clashing instead).
- ``group-by-path`` skips empty path segments, so a path without the
  leading slash (or with two) finds the group too (keycloak
  ``KeycloakModelUtils.findGroupByPath``).
- A protocol mapper config key left out counts as false: Keycloak tests
  ``"true".equals(config.get(key))`` (``OIDCAttributeMapperHelper.java``),
  except ``userinfo.token.claim`` (missing: follows ``id.token.claim``) and
  ``introspection.token.claim`` (missing: follows ``access.token.claim``).
- Realms made through ``POST /admin/realms`` start disabled unless the
  representation says ``enabled``, and ask users for email, first and last
  name (the default user profile); master asks for none of them.

Where the docs left a point open, the emulator follows what Keycloak 26.7.3
answered to the same requests (``tests/test_keycloak_step.py`` runs the same
suite against both).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.routing import Map, PathConverter
from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, Emulator, json_response

Json = dict[str, Any]

MASTER = "master"
ACCOUNT_ROLES = ["manage-account", "manage-account-links", "view-profile"]
DEFAULT_SCOPES = ["acr", "basic", "email", "profile", "roles", "web-origins"]
OPTIONAL_SCOPES = [
    "address",
    "microprofile-jwt",
    "offline_access",
    "organization",
    "phone",
]
GROUP_MAPPER = "oidc-group-membership-mapper"
CLIENT_ROLE_MAPPER = "oidc-usermodel-client-role-mapper"
# ProtocolMapperUtils sorts mappers by priority: role mappers run after the
# others, so their values land after the groups' in a shared claim.
ROLE_MAPPERS = {"oidc-usermodel-realm-role-mapper", CLIENT_ROLE_MAPPER}
# The default user profile of a new realm requires these for role "user".
PROFILE_REQUIRED = ["email", "firstName", "lastName"]
SKIP = object()
SERVER_ERROR = {
    "error": "unknown_error",
    "error_description": "For more on this error consult the server log.",
}


class _AnyPath(PathConverter):
    """Matches any rest of a URL, also one starting with ``/``."""

    regex = ".*"
    part_isolating = False


# -- small helpers -------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(claims: Json, key: str) -> str:
    """A compact JWS (HS256) of ``claims``."""
    header = {"alg": "HS256", "typ": "JWT", "kid": "sandbox"}
    head = _b64url(json.dumps(header, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode()
    sig = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    return f"{head}.{body}.{_b64url(sig)}"


def decode_jwt(token: str, key: str) -> Json | None:
    """The claims of a token signed with ``key``; None when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    signing_input = f"{parts[0]}.{parts[1]}".encode()
    expected = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64url(parts[2])):
            return None
        claims = json.loads(_unb64url(parts[1]))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def _body(request: Request) -> Any:
    """The JSON body of a request, or None when it has none."""
    raw = request.get_data()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, {"error": "unknown_error"}) from exc


def _body_dict(request: Request) -> Json:
    body = _body(request)
    return body if isinstance(body, dict) else {}


def _flag(value: str | None, default: bool) -> bool:
    """A query-string boolean as JAX-RS reads it (``True``/``true``)."""
    if value is None:
        return default
    return value.lower() == "true"


def _page(items: list[Any], request: Request, default_max: int = -1) -> list[Any]:
    """Keycloak's ``first``/``max`` paging of a result list."""
    first = int(request.args.get("first", 0) or 0)
    size = int(request.args.get("max", default_max) or default_max)
    return items[first:] if size < 0 else items[first : first + size]


def _error(status: int, message: str) -> ApiError:
    """An admin API error with Keycloak's ``errorMessage`` body."""
    return ApiError(status, {"errorMessage": message})


def _not_found(message: str) -> ApiError:
    """A 404 as Keycloak's error handler writes a NotFoundException."""
    return ApiError(404, {"error": message})


def _oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description})


def _created(location: str, body: Any = None) -> Response:
    """201 with a ``Location`` header; an empty body like Keycloak's."""
    if body is not None:
        return json_response(body, 201, {"Location": location})
    return Response(b"", status=201, headers={"Location": location})


def _no_content() -> Response:
    return Response(b"", status=204)


def _mapper(
    name: str, kind: str, config: dict[str, str], mapper_id: str | None = None
) -> Json:
    return {
        "id": mapper_id or str(uuid.uuid4()),
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": kind,
        "consentRequired": False,
        "config": dict(config),
    }


def _tokens(access: bool = True, id_token: bool = True) -> dict[str, str]:
    return {
        "access.token.claim": str(access).lower(),
        "id.token.claim": str(id_token).lower(),
        "userinfo.token.claim": str(id_token).lower(),
        "introspection.token.claim": "true",
    }


def _property(name: str, attribute: str, claim: str, json_type: str) -> Json:
    config = {"user.attribute": attribute, "claim.name": claim}
    config["jsonType.label"] = json_type
    return _mapper(name, "oidc-usermodel-property-mapper", config | _tokens())


def builtin_scopes() -> list[Json]:
    """The client scopes a new Keycloak 26 realm has, with the mappers we model.

    Follows keycloak ``services/.../protocol/oidc/OIDCLoginProtocolFactory.java``
    (``basic``, ``profile``, ``email``, ``roles``, ``web-origins``, ``acr``,
    ``microprofile-jwt``: ``upn`` and a ``groups`` claim of realm roles).
    """
    realm_roles = {"claim.name": "realm_access.roles", "multivalued": "true"}
    client_roles = {
        "claim.name": "resource_access.${client_id}.roles",
        "multivalued": "true",
    }
    mp_groups = {"claim.name": "groups", "multivalued": "true"}
    mappers: dict[str, list[Json]] = {
        "acr": [_mapper("acr loa level", "oidc-acr-mapper", _tokens())],
        "basic": [
            _mapper("sub", "oidc-sub-mapper", _tokens(True, False)),
        ],
        "email": [
            _property("email", "email", "email", "String"),
            _property("email verified", "emailVerified", "email_verified", "boolean"),
        ],
        "profile": [
            _property("username", "username", "preferred_username", "String"),
            _property("given name", "firstName", "given_name", "String"),
            _property("family name", "lastName", "family_name", "String"),
            _mapper("full name", "oidc-full-name-mapper", _tokens()),
        ],
        "roles": [
            _mapper(
                "realm roles",
                "oidc-usermodel-realm-role-mapper",
                realm_roles | _tokens(True, False),
            ),
            _mapper(
                "client roles",
                CLIENT_ROLE_MAPPER,
                client_roles | _tokens(True, False),
            ),
            _mapper("audience resolve", "oidc-audience-resolve-mapper", {}),
        ],
        "web-origins": [
            _mapper(
                "allowed web origins",
                "oidc-allowed-origins-mapper",
                _tokens(True, False),
            )
        ],
        "microprofile-jwt": [
            _property("upn", "username", "upn", "String"),
            _mapper(
                "groups",
                "oidc-usermodel-realm-role-mapper",
                mp_groups | _tokens(),
            ),
        ],
    }
    in_token = {"email", "profile", "microprofile-jwt", "address", "phone"}
    names = DEFAULT_SCOPES + OPTIONAL_SCOPES
    return [
        {
            "id": str(uuid.uuid4()),
            "name": name,
            "protocol": "openid-connect",
            "attributes": {
                "include.in.token.scope": str(name in in_token).lower(),
                "display.on.consent.screen": "true",
            },
            "protocolMappers": mappers.get(name, []),
        }
        for name in names
    ]


# -- the emulator --------------------------------------------------------


@dataclass
class KeycloakEmulator(Emulator):
    """Keycloak 26's admin REST API and OIDC endpoints, with their state."""

    name: str = "keycloak"
    realm: str = "platform"
    state: Json = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.state:
            self.state = self.empty_state()

    # -- public API ----------------------------------------------------

    @property
    def admin_username(self) -> str:
        return str(self.state["admin"].get("username", ""))

    @property
    def admin_password(self) -> str:
        return str(self.state["admin"].get("password", ""))

    @property
    def admin_client_id(self) -> str:
        return "tenantctl"

    @property
    def admin_client_secret(self) -> str:
        client = self.client_by_client_id(MASTER, self.admin_client_id)
        return str(client["secret"]) if client else ""

    def empty_state(self) -> Json:
        return {"signing_key": secrets.token_hex(32), "admin": {}, "realms": {}}

    def dump_state(self) -> Json:
        return copy.deepcopy(self.state)

    def load_state(self, data: Json) -> None:
        self.state = copy.deepcopy(data)

    def seed_platform(self) -> None:
        """The platform of platform.md: realms, clients, roles, groups, users."""
        with self.lock:
            self.state = self.empty_state()
            self.state["admin"] = {
                "username": "admin",
                "password": secrets.token_urlsafe(12),
            }
            self.seed_master()
            self.seed_platform_realm()

    def seed_master(self) -> None:
        self.add_realm(MASTER, access_token_lifespan=60)
        self.add_role(MASTER, "admin", "${role_admin}")
        self.add_role(MASTER, "create-realm", "${role_create-realm}")
        admin = self.state["admin"]
        user_id = self.add_user(admin["username"], None, admin["password"], MASTER)
        self.grant_roles(MASTER, user_id, ["admin", "create-realm"])
        self.add_client(
            MASTER, "admin-cli", public=True, direct_grants=True, standard=False
        )
        client = self.add_client(
            MASTER, "tenantctl", service_account=True, standard=False
        )
        account = self.state["realms"][MASTER]["users"][client["_serviceUser"]]
        account["realmRoles"].append("admin")

    def seed_platform_realm(self) -> None:
        realm = self.realm
        self.add_realm(realm)
        client = self.add_client(realm, "dashboard", redirect_uris=["/*"])
        config = {"claim.name": "groups", "full.path": "false"} | _tokens()
        client["protocolMappers"].append(_mapper("groups", GROUP_MAPPER, config))
        members = {
            "administrators": ["alice", "bob"],
            "developers": ["carol", "dave"],
        }
        for name in ["alice", "bob", "carol", "dave", "erin"]:
            user_id = self.add_user(
                name, f"{name}@example.com", secrets.token_urlsafe(9)
            )
            user = self.state["realms"][realm]["users"][user_id]
            user["firstName"], user["lastName"] = name.title(), "Example"
        for group, users in members.items():
            self.add_role(realm, group, f"Members of the {group} tenant")
            group_id = self.add_group(realm, group)
            self.state["realms"][realm]["groups"][group_id]["realmRoles"] = [group]
            for username in users:
                user = self.user_by_name(realm, username)
                assert user is not None
                user["groups"].append(group_id)

    def add_realm(
        self, name: str, access_token_lifespan: int = 300, enabled: bool = True
    ) -> Json:
        """A realm as a new Keycloak 26 realm is: built-in scopes and roles,
        and a user profile that needs email and names outside master."""
        realm: Json = {
            "id": str(uuid.uuid4()) if name != MASTER else MASTER,
            "realm": name,
            "enabled": enabled,
            "accessTokenLifespan": access_token_lifespan,
            "ssoSessionIdleTimeout": 1800,
            "_requiredProfile": [] if name == MASTER else PROFILE_REQUIRED,
            "users": {},
            "groups": {},
            "roles": {},
            "clients": {},
            "clientScopes": {s["id"]: s for s in builtin_scopes()},
        }
        self.state["realms"][name] = realm
        for role in ["offline_access", "uma_authorization"]:
            self.add_role(name, role, f"${{role_{role}}}")
        default = self.add_role(name, f"default-roles-{name}", "${role_default-roles}")
        default["composite"] = True
        default["_composites"] = ["offline_access", "uma_authorization"]
        return realm

    def add_role(self, realm: str, name: str, description: str = "") -> Json:
        container = self.state["realms"][realm]
        role = {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": description,
            "composite": False,
            "clientRole": False,
            "containerId": container["id"],
            "attributes": {},
        }
        container["roles"][name] = role
        return role

    def add_client(
        self,
        realm: str,
        client_id: str,
        *,
        public: bool = False,
        direct_grants: bool = False,
        standard: bool = True,
        service_account: bool = False,
        redirect_uris: list[str] | None = None,
    ) -> Json:
        rep = {
            "clientId": client_id,
            "publicClient": public,
            "directAccessGrantsEnabled": direct_grants,
            "standardFlowEnabled": standard,
            "serviceAccountsEnabled": service_account,
            "redirectUris": redirect_uris or [],
        }
        return self.create_client(realm, rep)

    def create_client(self, realm: str, rep: Json) -> Json:
        """Store a client from its representation, with Keycloak's defaults."""
        client: Json = {
            "id": rep.get("id") or str(uuid.uuid4()),
            "clientId": rep["clientId"],
            "name": rep.get("name", ""),
            "description": rep.get("description", ""),
            "rootUrl": rep.get("rootUrl", ""),
            "baseUrl": rep.get("baseUrl", ""),
            "surrogateAuthRequired": False,
            "enabled": rep.get("enabled", True),
            "alwaysDisplayInConsole": False,
            "clientAuthenticatorType": "client-secret",
            "redirectUris": rep.get("redirectUris", []),
            "webOrigins": rep.get("webOrigins", []),
            "notBefore": 0,
            "bearerOnly": rep.get("bearerOnly", False),
            "consentRequired": rep.get("consentRequired", False),
            "standardFlowEnabled": rep.get("standardFlowEnabled", True),
            "implicitFlowEnabled": rep.get("implicitFlowEnabled", False),
            "directAccessGrantsEnabled": rep.get("directAccessGrantsEnabled", False),
            "serviceAccountsEnabled": rep.get("serviceAccountsEnabled", False),
            "publicClient": rep.get("publicClient", False),
            "frontchannelLogout": rep.get("frontchannelLogout", False),
            "protocol": rep.get("protocol", "openid-connect"),
            "attributes": rep.get("attributes", {}),
            "fullScopeAllowed": rep.get("fullScopeAllowed", True),
            "nodeReRegistrationTimeout": -1,
            "protocolMappers": [
                _mapper(m["name"], m["protocolMapper"], m.get("config", {}))
                for m in rep.get("protocolMappers", [])
            ],
            "defaultClientScopes": rep.get("defaultClientScopes", DEFAULT_SCOPES),
            "optionalClientScopes": rep.get("optionalClientScopes", OPTIONAL_SCOPES),
        }
        if not client["publicClient"]:
            client["secret"] = rep.get("secret") or secrets.token_urlsafe(24)
        self.state["realms"][realm]["clients"][client["id"]] = client
        self.sync_service_account(realm, client)
        return client

    def sync_service_account(self, realm: str, client: Json) -> None:
        """Give a client with service accounts on its service-account user."""
        if not client["serviceAccountsEnabled"] or client.get("_serviceUser"):
            return
        name = f"service-account-{client['clientId']}".lower()
        user_id = self.add_user(name, None, None, realm)
        user = self.state["realms"][realm]["users"][user_id]
        user["serviceAccountClientId"] = client["id"]
        client["_serviceUser"] = user_id

    def add_user(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        realm: str | None = None,
    ) -> str:
        """Create a user in ``realm`` (default: the platform realm); its id."""
        realm = realm or self.realm
        with self.lock:
            user = self.new_user(realm, {"username": username, "email": email})
            user["password"] = password
            return str(user["id"])

    def user_password(self, username: str, realm: str | None = None) -> str:
        """The password a seeded or added user logs in with."""
        user = self.user_by_name(realm or self.realm, username)
        return str(user["password"]) if user else ""

    def add_group(self, realm: str, name: str, parent: str | None = None) -> str:
        group_id = str(uuid.uuid4())
        self.state["realms"][realm]["groups"][group_id] = {
            "id": group_id,
            "name": name,
            "parentId": parent,
            "attributes": {},
            "realmRoles": [],
            "clientRoles": {},
        }
        return group_id

    def grant_roles(self, realm: str, user_id: str, roles: list[str]) -> None:
        self.state["realms"][realm]["users"][user_id]["realmRoles"].extend(roles)

    # -- lookups ---------------------------------------------------------

    def realm_state(self, name: str) -> Json:
        realm = self.state["realms"].get(name)
        if realm is None:
            raise _not_found("Realm not found.")
        return dict(realm)

    def user_by_name(self, realm: str, username: str) -> Json | None:
        users = self.state["realms"][realm]["users"].values()
        return next((u for u in users if u["username"] == username.lower()), None)

    def client_by_client_id(self, realm: str, client_id: str) -> Json | None:
        realm_state = self.state["realms"].get(realm)
        if realm_state is None:
            return None
        clients = realm_state["clients"].values()
        return next((c for c in clients if c["clientId"] == client_id), None)

    def get_user(self, realm: str, user_id: str) -> Json:
        user = self.realm_state(realm)["users"].get(user_id)
        if user is None:
            raise _not_found("User not found")
        return dict(user)

    def get_group(self, realm: str, group_id: str) -> Json:
        group = self.realm_state(realm)["groups"].get(group_id)
        if group is None:
            raise _not_found("Could not find group by id")
        return dict(group)

    def get_client(self, realm: str, client_uuid: str) -> Json:
        client = self.realm_state(realm)["clients"].get(client_uuid)
        if client is None:
            raise _not_found("Could not find client")
        return dict(client)

    # -- users -----------------------------------------------------------

    def new_user(self, realm: str, rep: Json) -> Json:
        """Create a user from a representation; Keycloak lower-cases usernames.

        keycloak ``UsersResource.createUser``: 409 "User exists with same
        username" / "... same email"; the default user profile's length rule
        (3 to 255) answers 400 with a ``field`` error body.
        """
        username = str(rep.get("username") or "").strip().lower()
        if not username:
            raise _error(400, "User name is missing")
        if not 3 <= len(username) <= 255:
            body = {"field": "username", "errorMessage": "error-invalid-length"}
            raise ApiError(400, body | {"params": ["username", 3, 255]})
        users = self.state["realms"][realm]["users"]
        if self.user_by_name(realm, username) is not None:
            raise _error(409, "User exists with same username")
        email = (rep.get("email") or "").lower() or None
        if email and any(u.get("email") == email for u in users.values()):
            raise _error(409, "User exists with same email")
        user: Json = {
            "id": str(uuid.uuid4()),
            "username": username,
            "firstName": rep.get("firstName"),
            "lastName": rep.get("lastName"),
            "email": email,
            "emailVerified": bool(rep.get("emailVerified", False)),
            "enabled": rep.get("enabled", True),
            "createdTimestamp": int(self.clock.now() * 1000),
            "attributes": rep.get("attributes") or {},
            "requiredActions": rep.get("requiredActions", []),
            "groups": [],
            "realmRoles": [f"default-roles-{realm}"],
            "password": self.password_from(rep),
        }
        users[user["id"]] = user
        for path in rep.get("groups") or []:
            group = self.find_group_by_path(realm, path)
            if group is not None:
                user["groups"].append(group["id"])
        return user

    @staticmethod
    def password_from(rep: Json) -> str | None:
        for cred in rep.get("credentials") or []:
            if cred.get("type", "password") == "password" and "value" in cred:
                return str(cred["value"])
        return None

    def user_rep(self, realm: str, user: Json, brief: bool = False) -> Json:
        """A UserRepresentation as Keycloak 26 returns it."""
        rep: Json = {
            "id": user["id"],
            "username": user["username"],
            "emailVerified": user["emailVerified"],
            "enabled": user["enabled"],
            "createdTimestamp": user["createdTimestamp"],
            "totp": False,
        }
        for key in ("firstName", "lastName", "email"):
            if user.get(key) is not None:
                rep[key] = user[key]
        if user.get("serviceAccountClientId"):
            rep["serviceAccountClientId"] = user["serviceAccountClientId"]
        if brief:
            return rep
        if user["attributes"]:
            rep["attributes"] = user["attributes"]
        rep["disableableCredentialTypes"] = []
        rep["requiredActions"] = user["requiredActions"]
        rep["notBefore"] = 0
        rep["access"] = {
            "manageGroupMembership": True,
            "resetPassword": True,
            "view": True,
            "mapRoles": True,
            "impersonate": True,
            "manage": True,
        }
        return rep

    def search_users(self, realm: str, request: Request) -> list[Json]:
        """keycloak ``UsersResource.getUsers``: substring, case-insensitive
        matches unless ``exact=true``; service accounts are left out.
        Usernames and emails are stored lower-case and so are the values
        searched for (``ERIN`` finds ``erin`` even with ``exact=true``)."""
        args = request.args
        exact = _flag(args.get("exact"), False)
        users = [
            u
            for u in self.realm_state(realm)["users"].values()
            if not u.get("serviceAccountClientId")
        ]
        fields = ("username", "email", "firstName", "lastName")
        for key in fields:
            wanted = args.get(key)
            if wanted is None:
                continue
            if key in ("username", "email"):
                wanted = wanted.lower()
            users = [u for u in users if _matches(u.get(key), wanted, exact)]
        if args.get("search"):
            text = args["search"].strip().strip("*")
            users = [
                u for u in users if any(_matches(u.get(k), text, False) for k in fields)
            ]
        return sorted(users, key=lambda u: str(u["username"]))

    # -- groups ----------------------------------------------------------

    def children(self, realm: str, parent: str | None) -> list[Json]:
        groups = self.realm_state(realm)["groups"].values()
        found = [g for g in groups if g["parentId"] == parent]
        return sorted(found, key=lambda g: str(g["name"]))

    def group_path(self, realm: str, group: Json) -> str:
        """``/parent/child``; a ``/`` inside a name is escaped as ``~/``."""
        names = []
        current: Json | None = group
        groups = self.state["realms"][realm]["groups"]
        while current is not None:
            names.append(current["name"].replace("/", "~/"))
            current = groups.get(current["parentId"]) if current["parentId"] else None
        return "/" + "/".join(reversed(names))

    def group_rep(
        self, realm: str, group: Json, brief: bool = True, sub: list[Json] | None = None
    ) -> Json:
        """A GroupRepresentation of Keycloak 23+: ``subGroupCount``, no tree."""
        rep: Json = {
            "id": group["id"],
            "name": group["name"],
            "path": self.group_path(realm, group),
            "subGroupCount": len(self.children(realm, group["id"])),
            "subGroups": sub or [],
        }
        if group["parentId"]:
            rep["parentId"] = group["parentId"]
        if not brief:
            rep["attributes"] = group["attributes"]
            rep["realmRoles"] = list(group["realmRoles"])
            rep["clientRoles"] = group["clientRoles"]
        rep["access"] = {
            "view": True,
            "viewMembers": True,
            "manageMembers": True,
            "manage": True,
            "manageMembership": True,
        }
        return rep

    def find_group_by_path(self, realm: str, path: str) -> Json | None:
        """keycloak ``KeycloakModelUtils.findGroupByPath``: empty segments are
        skipped, so leading, trailing and doubled ``/`` do not matter
        (``contractors``, ``//contractors`` and ``/contractors/`` all find
        ``/contractors`` on Keycloak 26.7.3); ``~/`` escapes a slash in a
        name; names compare case-sensitively."""
        parts = [p.replace("~/", "/") for p in _split_unescaped(path) if p]
        if not parts:
            return None
        parent: str | None = None
        found: Json | None = None
        for part in parts:
            found = next(
                (g for g in self.children(realm, parent) if g["name"] == part), None
            )
            if found is None:
                return None
            parent = found["id"]
        return found

    def search_groups(self, realm: str, request: Request) -> list[Json]:
        """keycloak ``GroupsResource.getGroups`` (23+): hits are returned as
        their top-level ancestor, with the branch down to the hit in
        ``subGroups``; ``search`` is a case-insensitive substring unless
        ``exact=true``; ``q`` matches attributes ``key:value``."""
        args = request.args
        brief = _flag(args.get("briefRepresentation"), True)
        groups = list(self.realm_state(realm)["groups"].values())
        if args.get("q") is not None:
            wanted = _parse_q(args["q"])
            hits = [g for g in groups if _attributes_match(g, wanted)]
        elif args.get("search") is not None:
            text = args["search"].strip()
            exact = _flag(args.get("exact"), False)
            hits = [g for g in groups if _matches(g["name"], text, exact)]
        else:
            tops = self.children(realm, None)
            return [self.group_rep(realm, g, brief) for g in _page(tops, request, 100)]
        return _page(self.hierarchy(realm, hits, brief), request, 100)

    def hierarchy(self, realm: str, hits: list[Json], brief: bool) -> list[Json]:
        """Top-level reps holding the branches that lead to ``hits``."""
        groups = self.state["realms"][realm]["groups"]
        reps: dict[str, Json] = {}
        tops: list[Json] = []
        for hit in sorted(hits, key=lambda g: self.group_path(realm, g)):
            child: Json | None = None
            current: Json | None = hit
            while current is not None:
                rep = reps.get(current["id"])
                known = rep is not None
                if rep is None:
                    rep = self.group_rep(realm, current, brief)
                    reps[current["id"]] = rep
                if child is not None and child not in rep["subGroups"]:
                    rep["subGroups"].append(child)
                if known:
                    break
                if current["parentId"] is None:
                    tops.append(rep)
                child = rep
                current = groups.get(current["parentId"] or "")
        return sorted(tops, key=lambda r: str(r["name"]))

    def create_group(self, realm: str, rep: Json, parent: str | None) -> Json:
        """keycloak ``GroupsResource.addTopLevelGroup`` and
        ``GroupResource.addChild``: 409 for a sibling of the same name."""
        name = rep.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _error(400, "Group name is missing")
        if any(g["name"] == name for g in self.children(realm, parent)):
            if parent is None:
                raise _error(409, f"Top level group named '{name}' already exists.")
            raise _error(409, f"Sibling group named '{name}' already exists.")
        group_id = self.add_group(realm, name, parent)
        group = self.state["realms"][realm]["groups"][group_id]
        group["attributes"] = rep.get("attributes") or {}
        return dict(group)

    def delete_group(self, realm: str, group_id: str) -> None:
        for child in self.children(realm, group_id):
            self.delete_group(realm, child["id"])
        self.state["realms"][realm]["groups"].pop(group_id, None)
        for user in self.state["realms"][realm]["users"].values():
            if group_id in user["groups"]:
                user["groups"].remove(group_id)

    def user_groups(self, realm: str, user: Json) -> list[Json]:
        groups = self.state["realms"][realm]["groups"]
        found = [groups[g] for g in user["groups"] if g in groups]
        return sorted(found, key=lambda g: self.group_path(realm, g))

    # -- roles -----------------------------------------------------------

    def role_rep(self, role: Json) -> Json:
        return {k: v for k, v in role.items() if not k.startswith("_")}

    def get_role(self, realm: str, name: str) -> Json:
        role = self.realm_state(realm)["roles"].get(name)
        if role is None:
            raise _not_found("Could not find role")
        return dict(role)

    def roles_from_body(self, realm: str, body: Any) -> list[Json]:
        """keycloak ``RoleMapperResource``: each role is looked up by name and
        must carry the matching id, else 404 "Role not found"."""
        if not isinstance(body, list):
            raise _error(400, "Roles are missing")
        roles = self.realm_state(realm)["roles"]
        found = []
        for item in body:
            role = roles.get(item.get("name")) if isinstance(item, dict) else None
            if role is None or role["id"] != item.get("id"):
                raise _not_found("Role not found")
            found.append(role)
        return found

    def expand_roles(self, realm: str, names: list[str]) -> list[str]:
        """Role names with every composite expanded, in a stable order."""
        roles = self.state["realms"][realm]["roles"]
        result: list[str] = []
        pending = list(names)
        while pending:
            name = pending.pop(0)
            if name in result or name not in roles:
                continue
            result.append(name)
            pending.extend(roles[name].get("_composites", []))
        return result

    def effective_roles(self, realm: str, user: Json) -> list[str]:
        """A user's realm roles: direct, via groups and their ancestors,
        with composites (the default roles) expanded."""
        names = list(user["realmRoles"])
        groups = self.state["realms"][realm]["groups"]
        for group_id in user["groups"]:
            current = groups.get(group_id)
            while current is not None:
                names.extend(current["realmRoles"])
                current = groups.get(current["parentId"] or "")
        return self.expand_roles(realm, names)

    # -- tokens ----------------------------------------------------------

    def scopes_for(self, realm: str, client: Json, requested: str) -> list[Json]:
        """The client scopes a request gets: the client's defaults plus the
        optional ones named in ``scope``. 400 invalid_scope for others."""
        by_name = {
            s["name"]: s for s in self.state["realms"][realm]["clientScopes"].values()
        }
        chosen = [by_name[n] for n in client["defaultClientScopes"] if n in by_name]
        for name in requested.split():
            if name == "openid" or name in client["defaultClientScopes"]:
                continue
            if name not in client["optionalClientScopes"] or name not in by_name:
                raise _oauth_error(400, "invalid_scope", f"Invalid scopes: {requested}")
            chosen.append(by_name[name])
        return chosen

    def build_claims(
        self,
        issuer: str,
        realm: str,
        client: Json,
        user: Json,
        requested: str,
        kind: str = "access",
    ) -> Json:
        """The payload of a token of ``kind`` (access, id, userinfo).

        Base claims as keycloak ``TokenManager.initToken``; the rest come from
        the protocol mappers of the client and of its client scopes, applied
        as ``ProtocolMapperUtils``/``OIDCAttributeMapperHelper`` do.
        """
        now = int(self.clock.now())
        lifespan = int(self.state["realms"][realm]["accessTokenLifespan"])
        scopes = self.scopes_for(realm, client, requested)
        claims: Json = {
            "exp": now + lifespan,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": issuer,
            "typ": "Bearer" if kind == "access" else "ID",
            "azp": client["clientId"],
            "sid": str(uuid.uuid4()),
        }
        if kind == "id":
            claims["aud"] = client["clientId"]
        if kind == "userinfo":
            claims = {}
        if kind == "access":
            claims["scope"] = self.scope_claim(requested, scopes)
            if user.get("serviceAccountClientId"):
                claims["client_id"] = client["clientId"]
        mappers = [m for s in scopes for m in s["protocolMappers"]]
        mappers += client["protocolMappers"]
        mappers.sort(key=lambda m: m.get("protocolMapper") in ROLE_MAPPERS)
        for mapper in mappers:
            self.apply_mapper(claims, mapper, realm, client, user, kind)
        return claims

    @staticmethod
    def scope_claim(requested: str, scopes: list[Json]) -> str:
        names = ["openid"] if "openid" in requested.split() else []
        for scope in scopes:
            if scope["attributes"].get("include.in.token.scope") == "true":
                names.append(scope["name"])
        return " ".join(names)

    def apply_mapper(
        self,
        claims: Json,
        mapper: Json,
        realm: str,
        client: Json,
        user: Json,
        kind: str,
    ) -> None:
        """Run one protocol mapper on ``claims`` if it targets ``kind``."""
        config = mapper.get("config") or {}
        mapper_type = mapper.get("protocolMapper", "")
        if mapper_type == "oidc-audience-resolve-mapper":
            if kind == "access" and self.has_account_roles(realm, client, user):
                _add_audience(claims, "account")
            return
        if not _included(config, kind):
            return
        value_of = VALUE_MAPPERS.get(mapper_type)
        if value_of is None:
            return
        value = value_of(self, realm, client, user, config)
        if value is SKIP:
            return
        claim = config.get("claim.name") or FIXED_CLAIMS.get(mapper_type)
        if not claim:
            return
        if mapper_type == GROUP_MAPPER:
            # GroupMembershipMapper.setClaim puts the claim name as is,
            # without splitting it on dots.
            _merge_claim(claims, claim, value)
        else:
            # The account console's are the only client roles emulated.
            _map_claim(claims, claim.replace("${client_id}", "account"), value)

    def has_account_roles(self, realm: str, client: Json, user: Json) -> bool:
        roles = self.scoped_roles(realm, client, user)
        return f"default-roles-{realm}" in roles

    def scoped_roles(self, realm: str, client: Json, user: Json) -> list[str]:
        """Effective roles the client may put in a token: all of them with
        ``fullScopeAllowed``, otherwise those in its scope mappings."""
        roles = self.effective_roles(realm, user)
        if client.get("fullScopeAllowed", True):
            return roles
        allowed = set(client.get("_scopeRoles", []))
        return [r for r in roles if r in allowed]

    def issue_tokens(
        self, issuer: str, realm: str, client: Json, user: Json, scope: str
    ) -> Json:
        """The token endpoint's answer (keycloak ``TokenManager``)."""
        access = self.build_claims(issuer, realm, client, user, scope)
        access["sub"] = access.get("sub", user["id"])
        key = self.state["signing_key"]
        realm_state = self.state["realms"][realm]
        answer: Json = {
            "access_token": encode_jwt(access, key),
            "expires_in": realm_state["accessTokenLifespan"],
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": access["scope"],
        }
        if "openid" in scope.split():
            id_claims = self.build_claims(issuer, realm, client, user, scope, "id")
            id_claims.setdefault("sub", user["id"])
            answer["id_token"] = encode_jwt(id_claims, key)
        if not user.get("serviceAccountClientId"):
            answer.update(self.refresh_token(access, realm_state, scope))
        return answer

    def refresh_token(self, access: Json, realm_state: Json, scope: str) -> Json:
        lifespan = int(realm_state["ssoSessionIdleTimeout"])
        refresh = {
            "exp": access["iat"] + lifespan,
            "iat": access["iat"],
            "jti": str(uuid.uuid4()),
            "iss": access["iss"],
            "aud": access["iss"],
            "sub": access["sub"],
            "typ": "Refresh",
            "azp": access["azp"],
            "sid": access["sid"],
            "scope": scope,
        }
        token = encode_jwt(refresh, self.state["signing_key"])
        session = {"session_state": access["sid"], "refresh_expires_in": lifespan}
        return {"refresh_token": token} | session

    # -- routing ---------------------------------------------------------

    def url_map(self) -> Map:
        return Map(
            [rule.empty() for rule in self._rules],
            strict_slashes=False,
            merge_slashes=False,
            converters={"anypath": _AnyPath},
        )

    def routes(self) -> None:
        self.oidc_routes()
        self.realm_routes()
        self.group_routes()
        self.user_routes()
        self.role_routes()
        self.client_routes()

    def authenticate(self, request: Request) -> None:
        """keycloak ``AdminRoot.authenticateRealmAdminRequest``: a bad or
        expired bearer token is 401; a valid one from a realm other than
        ``master`` or without the master ``admin`` role is 403."""
        if not request.path.startswith("/admin/"):
            return
        claims = self.bearer_claims(request)
        if claims is None:
            raise ApiError(401, {"error": "HTTP 401 Unauthorized"})
        realm = str(claims["iss"]).rsplit("/", 1)[-1]
        user = self.state["realms"].get(realm, {}).get("users", {}).get(claims["sub"])
        if realm != MASTER or user is None:
            raise ApiError(403, {"error": "unknown_error"})
        if "admin" not in self.effective_roles(MASTER, user):
            raise ApiError(403, {"error": "unknown_error"})

    def bearer_claims(self, request: Request) -> Json | None:
        """The claims of a valid, unexpired access token on the request."""
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        claims = decode_jwt(header[7:].strip(), self.state["signing_key"])
        if claims is None or claims.get("typ") != "Bearer":
            return None
        if claims.get("exp", 0) <= self.clock.now():
            return None
        realm = str(claims.get("iss", "")).rsplit("/", 1)[-1]
        if claims.get("sub") not in self.state["realms"].get(realm, {}).get(
            "users", {}
        ):
            return None
        return claims

    # -- OIDC endpoints --------------------------------------------------

    def oidc_routes(self) -> None:
        base = "/realms/<realm>"
        self.route(f"{base}/protocol/openid-connect/token", "POST")(self.token)
        userinfo = f"{base}/protocol/openid-connect/userinfo"
        self.route(userinfo, "GET", "POST")(self.userinfo)
        self.route(base, "GET")(self.realm_info)
        well_known = f"{base}/.well-known/openid-configuration"
        self.route(well_known, "GET")(self.openid_configuration)

    def issuer(self, request: Request, realm: str) -> str:
        return f"{request.host_url}realms/{realm}"

    def token(self, request: Request, realm: str) -> Response:
        """keycloak ``TokenEndpoint``: grants password, client_credentials
        and refresh_token; OAuth errors as ``{"error", "error_description"}``;
        an unknown realm is 404, a disabled one 403 "Realm not enabled"."""
        realm_state = self.state["realms"].get(realm)
        if realm_state is None:
            raise ApiError(404, {"error": "Realm does not exist"})
        if not realm_state.get("enabled", True):
            raise _oauth_error(403, "access_denied", "Realm not enabled")
        form = request.form
        grant = form.get("grant_type")
        if grant is None:
            raise _oauth_error(
                400, "invalid_request", "Missing form parameter: grant_type"
            )
        client = self.authenticate_client(realm, form)
        grants: dict[str, Callable[..., Any]] = {
            "password": self.password_grant,
            "client_credentials": self.client_credentials_grant,
            "refresh_token": self.refresh_grant,
        }
        handler = grants.get(grant)
        if handler is None:
            raise _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
        user, scope = handler(realm, client, form)
        answer = self.issue_tokens(
            self.issuer(request, realm), realm, client, user, scope
        )
        return json_response(answer, headers={"Cache-Control": "no-store"})

    def authenticate_client(self, realm: str, form: Any) -> Json:
        """keycloak ``ClientIdAndSecretAuthenticator``: unknown client 401
        invalid_client; wrong secret 401 unauthorized_client."""
        client = self.client_by_client_id(realm, form.get("client_id", ""))
        invalid = "Invalid client or Invalid client credentials"
        if client is None or not client["enabled"]:
            raise _oauth_error(401, "invalid_client", invalid)
        if client["publicClient"]:
            return client
        secret = form.get("client_secret")
        if secret is None:
            raise _oauth_error(401, "unauthorized_client", invalid)
        if not hmac.compare_digest(str(secret), str(client["secret"])):
            raise _oauth_error(401, "unauthorized_client", invalid)
        return client

    def password_grant(self, realm: str, client: Json, form: Any) -> Any:
        """Resource owner password grant (``ResourceOwnerPasswordCredentials
        GrantType``): needs ``directAccessGrantsEnabled``; a user missing an
        attribute the realm's user profile requires cannot log in this way
        (the verify-profile required action: "Account is not fully set up")."""
        if not client["directAccessGrantsEnabled"]:
            raise _oauth_error(
                400,
                "unauthorized_client",
                "Client not allowed for direct access grants",
            )
        user = self.user_by_name(realm, form.get("username") or "")
        if user is None and form.get("username"):
            users = self.state["realms"][realm]["users"].values()
            email = str(form.get("username")).lower()
            user = next((u for u in users if u.get("email") == email), None)
        password = form.get("password")
        if user is None or not user.get("password") or password != user["password"]:
            # Keycloak 26.7.3 answers 400 here (older releases sent 401).
            raise _oauth_error(400, "invalid_grant", "Invalid user credentials")
        if not user["enabled"]:
            raise _oauth_error(400, "invalid_grant", "Account disabled")
        required = self.state["realms"][realm].get("_requiredProfile", [])
        if any(not user.get(name) for name in required):
            raise _oauth_error(400, "invalid_grant", "Account is not fully set up")
        return user, form.get("scope") or "openid"

    def client_credentials_grant(self, realm: str, client: Json, form: Any) -> Any:
        """keycloak ``ClientCredentialsGrantType``: confidential clients with
        service accounts only (401 unauthorized_client otherwise); no refresh
        token by default."""
        if client["publicClient"]:
            raise _oauth_error(
                401,
                "unauthorized_client",
                "Public client not allowed to retrieve service account",
            )
        if not client["serviceAccountsEnabled"]:
            raise _oauth_error(
                401,
                "unauthorized_client",
                "Client not enabled to retrieve service account",
            )
        user = self.state["realms"][realm]["users"][client["_serviceUser"]]
        return user, form.get("scope") or "openid"

    def refresh_grant(self, realm: str, client: Json, form: Any) -> Any:
        """keycloak ``RefreshTokenGrantType``: 400 invalid_grant "Invalid
        refresh token" or "Token is not active" when expired."""
        claims = decode_jwt(form.get("refresh_token") or "", self.state["signing_key"])
        if claims is None or claims.get("typ") != "Refresh":
            raise _oauth_error(400, "invalid_grant", "Invalid refresh token")
        if claims["exp"] <= self.clock.now():
            raise _oauth_error(400, "invalid_grant", "Token is not active")
        if claims.get("azp") != client["clientId"]:
            raise _oauth_error(400, "invalid_grant", "Invalid refresh token")
        user = self.state["realms"][realm]["users"].get(claims["sub"])
        if user is None or not user["enabled"]:
            raise _oauth_error(400, "invalid_grant", "Session not active")
        return user, claims.get("scope") or "openid"

    def userinfo(self, request: Request, realm: str) -> Response:
        """keycloak ``UserInfoEndpoint``: the claims of userinfo mappers."""
        claims = self.bearer_claims(request)
        if claims is None or not str(claims["iss"]).endswith(f"/realms/{realm}"):
            raise _oauth_error(401, "invalid_token", "Token verification failed")
        client = self.client_by_client_id(realm, claims["azp"])
        user = self.state["realms"][realm]["users"][claims["sub"]]
        if client is None:
            raise _oauth_error(401, "invalid_token", "Client not found")
        issuer = self.issuer(request, realm)
        info = self.build_claims(
            issuer, realm, client, user, claims["scope"], "userinfo"
        )
        return json_response({"sub": user["id"]} | info)

    def realm_info(self, request: Request, realm: str) -> Response:
        """keycloak ``RealmsResource.getRealmResource`` (public realm info).

        The emulator signs HS256, so there is no RSA ``public_key`` to give.
        """
        if realm not in self.state["realms"]:
            raise _not_found("Realm does not exist")
        issuer = self.issuer(request, realm)
        return json_response(
            {
                "realm": realm,
                "public_key": "",
                "token-service": f"{issuer}/protocol/openid-connect",
                "account-service": f"{issuer}/account",
                "tokens-not-before": 0,
            }
        )

    def openid_configuration(self, request: Request, realm: str) -> Response:
        """keycloak ``OIDCWellKnownProvider``, the fields clients read."""
        if realm not in self.state["realms"]:
            raise _not_found("Realm does not exist")
        issuer = self.issuer(request, realm)
        oidc = f"{issuer}/protocol/openid-connect"
        scopes = [
            s["name"] for s in self.state["realms"][realm]["clientScopes"].values()
        ]
        return json_response(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{oidc}/auth",
                "token_endpoint": f"{oidc}/token",
                "introspection_endpoint": f"{oidc}/token/introspect",
                "userinfo_endpoint": f"{oidc}/userinfo",
                "end_session_endpoint": f"{oidc}/logout",
                "jwks_uri": f"{oidc}/certs",
                "grant_types_supported": [
                    "authorization_code",
                    "client_credentials",
                    "password",
                    "refresh_token",
                ],
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": ["openid", *scopes],
            }
        )

    # -- admin: realms ---------------------------------------------------

    def realm_routes(self) -> None:
        self.route("/admin/realms", "GET", "POST")(self.realms)
        self.route("/admin/realms/<realm>", "GET", "PUT", "DELETE")(self.one_realm)

    def realm_rep(self, realm: Json) -> Json:
        """The scalar part of a RealmRepresentation (no users, clients...)."""
        nested = {"users", "groups", "roles", "clients", "clientScopes"}
        return {
            k: v for k, v in realm.items() if k not in nested and not k.startswith("_")
        }

    def realms(self, request: Request) -> Response:
        """keycloak ``RealmsAdminResource``: list; create from a
        representation (201 + Location; 409 "Realm x already exists"; 400
        for an empty name or one with ``/``); ``enabled`` defaults to false."""
        if request.method == "GET":
            found = self.state["realms"].values()
            return json_response([self.realm_rep(r) for r in found])
        rep = _body_dict(request)
        name = str(rep.get("realm") or "").strip()
        if not name:
            raise _error(400, "Realm name cannot be empty")
        if "/" in name:
            raise ApiError(400, {"error": "Character '/' not allowed."})
        if name in self.state["realms"]:
            raise _error(409, f"Realm {name} already exists")
        # TODO: a realm import (users, clients, groups, roles in the body) is
        # not emulated; say so instead of silently dropping them.
        nested = sorted({"users", "clients", "groups", "roles"} & rep.keys())
        if nested:
            message = f"sandbox: realm import of {', '.join(nested)} not emulated"
            raise _error(501, message)
        realm = self.add_realm(
            name,
            int(rep.get("accessTokenLifespan", 300)),
            enabled=bool(rep.get("enabled", False)),
        )
        realm["ssoSessionIdleTimeout"] = int(rep.get("ssoSessionIdleTimeout", 1800))
        return _created(f"{request.base_url.rstrip('/')}/{name}")

    def one_realm(self, request: Request, realm: str) -> Response:
        """keycloak ``RealmAdminResource``: GET, PUT (fields sent), DELETE;
        404 "Realm not found."."""
        stored = self.state["realms"].get(realm)
        if stored is None:
            raise _not_found("Realm not found.")
        if request.method == "GET":
            return json_response(self.realm_rep(stored))
        if request.method == "DELETE":
            del self.state["realms"][realm]
            return _no_content()
        rep = _body_dict(request)
        editable = ("enabled", "accessTokenLifespan", "ssoSessionIdleTimeout")
        for key in editable:
            if key in rep:
                stored[key] = rep[key]
        return _no_content()

    # -- admin: groups ---------------------------------------------------

    def group_routes(self) -> None:
        base = "/admin/realms/<realm>"
        self.route(f"{base}/groups", "GET")(self.list_groups)
        self.route(f"{base}/groups", "POST")(self.post_group)
        self.route(f"{base}/groups/count", "GET")(self.count_groups)
        one = f"{base}/groups/<group_id>"
        self.route(one, "GET", "PUT", "DELETE")(self.one_group)
        self.route(f"{one}/children", "GET", "POST")(self.group_children)
        self.route(f"{one}/members", "GET")(self.group_members)
        self.route(f"{one}/role-mappings", "GET")(self.group_role_mappings)
        mappings = f"{one}/role-mappings/realm"
        self.route(mappings, "GET", "POST", "DELETE")(self.group_realm_roles)
        by_path = f"{base}/group-by-path/<anypath:path>"
        self.route(by_path, "GET")(self.group_by_path)

    def list_groups(self, request: Request, realm: str) -> Response:
        """keycloak ``GroupsResource.getGroups`` (Keycloak 23+ shapes)."""
        return json_response(self.search_groups(realm, request))

    def post_group(self, request: Request, realm: str) -> Response:
        """keycloak ``GroupsResource.addTopLevelGroup``: 201 + Location."""
        group = self.create_group(realm, _body_dict(request), None)
        return _created(f"{request.base_url.rstrip('/')}/{group['id']}")

    def count_groups(self, request: Request, realm: str) -> Response:
        """keycloak ``GroupsResource.getGroupCount``: ``{"count": n}``."""
        groups = list(self.realm_state(realm)["groups"].values())
        if request.args.get("search") is not None:
            text = request.args["search"]
            groups = [g for g in groups if _matches(g["name"], text, False)]
        elif _flag(request.args.get("top"), False):
            groups = [g for g in groups if g["parentId"] is None]
        return json_response({"count": len(groups)})

    def one_group(self, request: Request, realm: str, group_id: str) -> Response:
        """keycloak ``GroupResource``: GET (full rep), PUT, DELETE (subtree)."""
        group = self.get_group(realm, group_id)
        if request.method == "GET":
            return json_response(self.group_rep(realm, group, brief=False))
        if request.method == "DELETE":
            self.delete_group(realm, group_id)
            return _no_content()
        self.update_group(realm, group, _body_dict(request))
        return _no_content()

    def update_group(self, realm: str, group: Json, rep: Json) -> None:
        """keycloak ``GroupResource.updateGroup``: a rename must not clash
        with a sibling (409); attributes are replaced when sent."""
        name = rep.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _error(400, "Group name is missing")
        if name != group["name"]:
            siblings = self.children(realm, group["parentId"])
            if any(s["name"] == name and s["id"] != group["id"] for s in siblings):
                raise _error(409, f"Sibling group named '{name}' already exists.")
        stored = self.state["realms"][realm]["groups"][group["id"]]
        stored["name"] = name
        if rep.get("attributes") is not None:
            stored["attributes"] = rep["attributes"]

    def group_children(self, request: Request, realm: str, group_id: str) -> Response:
        """keycloak ``GroupResource.getSubGroups``/``addChild``: children are
        paged (``first``, ``max`` default 10) and searchable."""
        self.get_group(realm, group_id)
        if request.method == "POST":
            child = self.create_group(realm, _body_dict(request), group_id)
            location = f"{request.host_url}admin/realms/{realm}/groups/{child['id']}"
            return _created(location, self.group_rep(realm, child, brief=False))
        kids = self.children(realm, group_id)
        if request.args.get("search"):
            exact = _flag(request.args.get("exact"), False)
            text = request.args["search"]
            kids = [k for k in kids if _matches(k["name"], text, exact)]
        brief = _flag(request.args.get("briefRepresentation"), False)
        reps = [self.group_rep(realm, k, brief) for k in kids]
        return json_response(_page(reps, request, 10))

    def group_by_path(self, request: Request, realm: str, path: str) -> Response:
        """keycloak ``RealmAdminResource.getGroupByPath``: 404 "Group path does
        not exist"; the leading ``/`` is optional (``splitPath``)."""
        self.realm_state(realm)
        group = self.find_group_by_path(realm, path)
        if group is None:
            raise _not_found("Group path does not exist")
        return json_response(self.group_rep(realm, group, brief=False))

    def group_members(self, request: Request, realm: str, group_id: str) -> Response:
        """keycloak ``GroupResource.getMembers``: direct members, paged
        (``max`` default 100)."""
        self.get_group(realm, group_id)
        users = [
            u
            for u in self.realm_state(realm)["users"].values()
            if group_id in u["groups"]
        ]
        users.sort(key=lambda u: str(u["username"]))
        brief = _flag(request.args.get("briefRepresentation"), False)
        reps = [self.user_rep(realm, u, brief) for u in users]
        for rep in reps:
            rep.pop("access", None)
        return json_response(_page(reps, request, 100))

    def group_role_mappings(
        self, request: Request, realm: str, group_id: str
    ) -> Response:
        """keycloak ``RoleMapperResource.getRoleMappings``: empty parts are
        left out of the MappingsRepresentation."""
        group = self.get_group(realm, group_id)
        roles = self.realm_state(realm)["roles"]
        mapped = [self.role_rep(roles[n]) for n in group["realmRoles"] if n in roles]
        return json_response({"realmMappings": mapped} if mapped else {})

    def group_realm_roles(
        self, request: Request, realm: str, group_id: str
    ) -> Response:
        """keycloak ``RoleMapperResource`` realm mappings of a group."""
        group = self.state["realms"][realm]["groups"].get(group_id)
        if group is None:
            raise _not_found("Could not find group by id")
        return self.realm_role_mappings(request, realm, group)

    def realm_role_mappings(
        self, request: Request, realm: str, owner: Json
    ) -> Response:
        roles = self.realm_state(realm)["roles"]
        if request.method == "GET":
            names = [n for n in owner["realmRoles"] if n in roles]
            return json_response([self.role_rep(roles[n]) for n in names])
        body = _body(request)
        if request.method == "DELETE" and body is None:
            owner["realmRoles"].clear()
            return _no_content()
        for role in self.roles_from_body(realm, body):
            present = role["name"] in owner["realmRoles"]
            if request.method == "POST" and not present:
                owner["realmRoles"].append(role["name"])
            elif request.method == "DELETE" and present:
                owner["realmRoles"].remove(role["name"])
        return _no_content()

    # -- admin: users ----------------------------------------------------

    def user_routes(self) -> None:
        base = "/admin/realms/<realm>/users"
        self.route(base, "GET")(self.list_users)
        self.route(base, "POST")(self.post_user)
        self.route(f"{base}/count", "GET")(self.count_users)
        one = f"{base}/<user_id>"
        self.route(one, "GET", "PUT", "DELETE")(self.one_user)
        self.route(f"{one}/groups", "GET")(self.list_user_groups)
        self.route(f"{one}/groups/<group_id>", "PUT", "DELETE")(self.user_group)
        mappings = f"{one}/role-mappings/realm"
        self.route(mappings, "GET", "POST", "DELETE")(self.user_realm_roles)
        self.route(f"{mappings}/composite", "GET")(self.user_composite_roles)

    def list_users(self, request: Request, realm: str) -> Response:
        """keycloak ``UsersResource.getUsers`` (``max`` default 100)."""
        brief = _flag(request.args.get("briefRepresentation"), False)
        users = self.search_users(realm, request)
        reps = [self.user_rep(realm, u, brief) for u in users]
        for rep in reps:
            if "access" in rep:
                rep["access"] = {"manage": True}
        return json_response(_page(reps, request, 100))

    def count_users(self, request: Request, realm: str) -> Response:
        """keycloak ``UsersResource.getUsersCount``: a bare number."""
        return json_response(len(self.search_users(realm, request)))

    def post_user(self, request: Request, realm: str) -> Response:
        """keycloak ``UsersResource.createUser``: 201 + Location, 409s."""
        self.realm_state(realm)
        user = self.new_user(realm, _body_dict(request))
        return _created(f"{request.base_url.rstrip('/')}/{user['id']}")

    def one_user(self, request: Request, realm: str, user_id: str) -> Response:
        """keycloak ``UserResource``: GET, PUT (fields sent), DELETE."""
        user = self.state["realms"].get(realm, {}).get("users", {}).get(user_id)
        if user is None:
            raise _not_found("User not found")
        if request.method == "GET":
            return json_response(self.user_rep(realm, user))
        if request.method == "DELETE":
            del self.state["realms"][realm]["users"][user_id]
            return _no_content()
        rep = _body_dict(request)
        for key in ("firstName", "lastName", "enabled", "emailVerified", "attributes"):
            if key in rep:
                user[key] = rep[key]
        if "email" in rep:
            user["email"] = (rep["email"] or "").lower() or None
        password = self.password_from(rep)
        if password is not None:
            user["password"] = password
        return _no_content()

    def list_user_groups(self, request: Request, realm: str, user_id: str) -> Response:
        """keycloak ``UserResource.groupMembership``: brief reps, by path."""
        user = self.get_user(realm, user_id)
        brief = _flag(request.args.get("briefRepresentation"), True)
        groups = self.user_groups(realm, user)
        if request.args.get("search"):
            text = request.args["search"]
            groups = [g for g in groups if _matches(g["name"], text, False)]
        reps = [self.group_rep(realm, g, brief) for g in groups]
        for rep in reps:
            del rep["subGroupCount"], rep["subGroups"]
        return json_response(_page(reps, request, 100))

    def user_group(
        self, request: Request, realm: str, user_id: str, group_id: str
    ) -> Response:
        """keycloak ``UserResource.joinGroup``/``removeMembership``: 204;
        joining twice is a no-op; an unknown group is 404 "Group not found"."""
        user = self.state["realms"].get(realm, {}).get("users", {}).get(user_id)
        if user is None:
            raise _not_found("User not found")
        if group_id not in self.realm_state(realm)["groups"]:
            raise _not_found("Group not found")
        if request.method == "PUT" and group_id not in user["groups"]:
            user["groups"].append(group_id)
        elif request.method == "DELETE" and group_id in user["groups"]:
            user["groups"].remove(group_id)
        return _no_content()

    def user_realm_roles(self, request: Request, realm: str, user_id: str) -> Response:
        """keycloak ``RoleMapperResource`` realm mappings of a user."""
        user = self.state["realms"].get(realm, {}).get("users", {}).get(user_id)
        if user is None:
            raise _not_found("User not found")
        return self.realm_role_mappings(request, realm, user)

    def user_composite_roles(
        self, request: Request, realm: str, user_id: str
    ) -> Response:
        """keycloak ``RoleMapperResource.getCompositeRealmRoleMappings``:
        effective realm roles, via groups and composites too."""
        user = self.get_user(realm, user_id)
        roles = self.state["realms"][realm]["roles"]
        names = self.effective_roles(realm, user)
        return json_response([self.role_rep(roles[n]) for n in names])

    # -- admin: roles ----------------------------------------------------

    def role_routes(self) -> None:
        base = "/admin/realms/<realm>/roles"
        self.route(base, "GET", "POST")(self.roles)
        self.route(f"{base}/<role_name>", "GET", "PUT", "DELETE")(self.one_role)

    def roles(self, request: Request, realm: str) -> Response:
        """keycloak ``RoleContainerResource``: list (search, paging) and
        create (201 + Location; 409 "Role with name x already exists")."""
        roles = self.realm_state(realm)["roles"]
        if request.method == "GET":
            found = sorted(roles.values(), key=lambda r: str(r["name"]))
            if request.args.get("search"):
                text = request.args["search"]
                found = [r for r in found if _matches(r["name"], text, False)]
            return json_response(_page([self.role_rep(r) for r in found], request))
        rep = _body_dict(request)
        name = rep.get("name")
        if not isinstance(name, str) or not name:
            raise _error(400, "Role name is missing")
        if name in roles:
            raise _error(409, f"Role with name {name} already exists")
        role = self.add_role(realm, name, rep.get("description") or "")
        role["attributes"] = rep.get("attributes") or {}
        return _created(f"{request.base_url.rstrip('/')}/{name}")

    def one_role(self, request: Request, realm: str, role_name: str) -> Response:
        """keycloak ``RoleContainerResource.getRole``/``deleteRole``: a
        deleted role leaves every mapping."""
        role = self.get_role(realm, role_name)
        if request.method == "GET":
            return json_response(self.role_rep(role))
        realm_state = self.state["realms"][realm]
        if request.method == "PUT":
            rep = _body_dict(request)
            stored = realm_state["roles"][role_name]
            for key in ("description", "attributes"):
                if key in rep:
                    stored[key] = rep[key]
            return _no_content()
        del realm_state["roles"][role_name]
        owners = list(realm_state["users"].values())
        owners += list(realm_state["groups"].values())
        for owner in owners:
            if role_name in owner["realmRoles"]:
                owner["realmRoles"].remove(role_name)
        return _no_content()

    # -- admin: clients and scopes ---------------------------------------

    def client_routes(self) -> None:
        base = "/admin/realms/<realm>/clients"
        self.route(base, "GET", "POST")(self.clients)
        one = f"{base}/<client_uuid>"
        self.route(one, "GET", "PUT", "DELETE")(self.one_client)
        models = f"{one}/protocol-mappers/models"
        self.route(models, "GET", "POST")(self.client_mappers)
        self.route(f"{models}/<mapper_id>", "GET", "PUT", "DELETE")(self.client_mapper)
        evaluate = f"{one}/evaluate-scopes/generate-example-"
        self.route(f"{evaluate}access-token", "GET")(self.example_access_token)
        self.route(f"{evaluate}id-token", "GET")(self.example_id_token)
        self.route(f"{evaluate}userinfo", "GET")(self.example_userinfo)
        for kind in ("default", "optional"):
            scopes = f"{one}/{kind}-client-scopes"
            self.route(scopes, "GET")(self.client_scopes_of)
            self.route(f"{scopes}/<scope_id>", "PUT", "DELETE")(self.client_scope_link)
        self.route(f"{one}/service-account-user", "GET")(self.service_account_user)
        self.route(f"{one}/client-secret", "GET")(self.client_secret)
        scopes = "/admin/realms/<realm>/client-scopes"
        self.route(scopes, "GET", "POST")(self.client_scopes)
        self.route(f"{scopes}/<scope_id>", "GET")(self.one_client_scope)
        self.route(f"{scopes}/<scope_id>/protocol-mappers/models", "GET", "POST")(
            self.scope_mappers
        )

    def client_rep(self, client: Json) -> Json:
        rep = {k: v for k, v in client.items() if not k.startswith("_")}
        if not rep["protocolMappers"]:
            del rep["protocolMappers"]
        rep["access"] = {"view": True, "configure": True, "manage": True}
        return rep

    def clients(self, request: Request, realm: str) -> Response:
        """keycloak ``ClientsResource``: ``clientId`` is an exact filter
        (substring with ``search=true``); POST 201 + Location, 409
        "Client x already exists"."""
        found = list(self.realm_state(realm)["clients"].values())
        if request.method == "GET":
            wanted = request.args.get("clientId")
            if wanted is not None:
                fuzzy = _flag(request.args.get("search"), False)
                found = [c for c in found if _matches(c["clientId"], wanted, not fuzzy)]
            reps = [self.client_rep(c) for c in found]
            return json_response(_page(reps, request, 100))
        rep = _body_dict(request)
        if not rep.get("clientId"):
            raise _error(400, "Client id is missing")
        if any(c["clientId"] == rep["clientId"] for c in found):
            raise _error(409, f"Client {rep['clientId']} already exists")
        client = self.create_client(realm, rep)
        return _created(f"{request.base_url.rstrip('/')}/{client['id']}")

    def one_client(self, request: Request, realm: str, client_uuid: str) -> Response:
        """keycloak ``ClientResource``: GET, PUT (fields sent), DELETE."""
        client = self.get_client(realm, client_uuid)
        stored = self.state["realms"][realm]["clients"][client_uuid]
        if request.method == "GET":
            return json_response(self.client_rep(client))
        if request.method == "DELETE":
            del self.state["realms"][realm]["clients"][client_uuid]
            return _no_content()
        rep = _body_dict(request)
        wanted = str(rep.get("clientId") or client["clientId"])
        clash = self.client_by_client_id(realm, wanted)
        if clash is not None and clash["id"] != client_uuid:
            raise _error(409, f"Client {wanted} already exists")
        fixed = {"id", "protocolMappers", "access", "defaultClientScopes"}
        fixed |= {"optionalClientScopes"}
        for key, value in rep.items():
            if key not in fixed and not key.startswith("_"):
                stored[key] = value
        self.sync_service_account(realm, stored)
        return _no_content()

    def client_mappers(
        self, request: Request, realm: str, client_uuid: str
    ) -> Response:
        """keycloak ``ProtocolMappersResource``: list; create with 201,
        Location and no body; a name used on the client already is 409
        "Protocol mapper exists with same name"."""
        client = self.get_client(realm, client_uuid)
        return self.mappers_of(request, client["protocolMappers"])

    def mappers_of(self, request: Request, mappers: list[Json]) -> Response:
        if request.method == "GET":
            return json_response(mappers)
        rep = _body_dict(request)
        if not rep.get("name") or not rep.get("protocolMapper"):
            raise _error(400, "Protocol mapper name and type are required")
        if any(m["name"] == rep["name"] for m in mappers):
            raise _error(409, "Protocol mapper exists with same name")
        config = _mapper_config(rep.get("config"))
        mapper = _mapper(rep["name"], rep["protocolMapper"], config, rep.get("id"))
        mapper["protocol"] = rep.get("protocol", "openid-connect")
        mappers.append(mapper)
        return _created(f"{request.base_url.rstrip('/')}/{mapper['id']}")

    def client_mapper(
        self, request: Request, realm: str, client_uuid: str, mapper_id: str
    ) -> Response:
        """keycloak ``ProtocolMapperResource``: GET, PUT, DELETE; 404 "Model
        not found". A PUT replaces name, type and config whole (the type can
        change in place) and needs the mapper's own ``id`` in its body: without
        it, or with another, Keycloak 26.7.3 fails with a 500."""
        mappers = self.get_client(realm, client_uuid)["protocolMappers"]
        mapper = next((m for m in mappers if m["id"] == mapper_id), None)
        if mapper is None:
            raise _not_found("Model not found")
        if request.method == "GET":
            return json_response(mapper)
        if request.method == "DELETE":
            mappers.remove(mapper)
            return _no_content()
        rep = _body_dict(request)
        if rep.get("id") != mapper_id:
            raise ApiError(500, SERVER_ERROR)
        if rep.get("name", mapper["name"]) != mapper["name"] and any(
            m["name"] == rep["name"] for m in mappers
        ):
            raise _error(409, "Protocol mapper exists with same name")
        mapper["name"] = rep.get("name", mapper["name"])
        mapper["protocolMapper"] = rep.get("protocolMapper", mapper["protocolMapper"])
        mapper["config"] = _mapper_config(rep.get("config"))
        return _no_content()

    def example_token(
        self, request: Request, realm: str, client_uuid: str, kind: str
    ) -> Response:
        """keycloak ``ClientScopeEvaluateResource``: the payload the user
        would get, computed by the code that issues real tokens; 404 "No
        userId provided" / "No user found"."""
        client = self.get_client(realm, client_uuid)
        user_id = request.args.get("userId", "")
        if not user_id:
            raise _not_found("No userId provided")
        user = self.state["realms"][realm]["users"].get(user_id)
        if user is None:
            raise _not_found("No user found")
        scope = request.args.get("scope") or "openid"
        issuer = self.issuer(request, realm)
        claims = self.build_claims(issuer, realm, client, user, scope, kind)
        if kind != "userinfo":
            claims.setdefault("sub", user["id"])
        return json_response(claims)

    def example_access_token(
        self, request: Request, realm: str, client_uuid: str
    ) -> Response:
        return self.example_token(request, realm, client_uuid, "access")

    def example_id_token(
        self, request: Request, realm: str, client_uuid: str
    ) -> Response:
        return self.example_token(request, realm, client_uuid, "id")

    def example_userinfo(
        self, request: Request, realm: str, client_uuid: str
    ) -> Response:
        return self.example_token(request, realm, client_uuid, "userinfo")

    def scope_by_id(self, realm: str, scope_id: str) -> Json:
        scope = self.realm_state(realm)["clientScopes"].get(scope_id)
        if scope is None:
            raise _not_found("Could not find client scope")
        return dict(scope)

    def client_scopes_of(
        self, request: Request, realm: str, client_uuid: str
    ) -> Response:
        """keycloak ``ClientResource.getDefaultClientScopes`` / optional:
        ``[{"id", "name"}]``."""
        client = self.get_client(realm, client_uuid)
        key = "defaultClientScopes"
        if request.path.endswith("optional-client-scopes"):
            key = "optionalClientScopes"
        scopes = self.state["realms"][realm]["clientScopes"].values()
        by_name = {s["name"]: s for s in scopes}
        found = [by_name[n] for n in client[key] if n in by_name]
        return json_response([{"id": s["id"], "name": s["name"]} for s in found])

    def client_scope_link(
        self, request: Request, realm: str, client_uuid: str, scope_id: str
    ) -> Response:
        """Add (PUT) or remove (DELETE) a default or optional client scope."""
        self.get_client(realm, client_uuid)
        client = self.state["realms"][realm]["clients"][client_uuid]
        name = self.scope_by_id(realm, scope_id)["name"]
        key = (
            "defaultClientScopes"
            if "/default-" in request.path
            else "optionalClientScopes"
        )
        client[key] = [n for n in client[key] if n != name]
        if request.method == "PUT":
            client[key].append(name)
        return _no_content()

    def service_account_user(
        self, request: Request, realm: str, client_uuid: str
    ) -> Response:
        """keycloak ``ClientResource.getServiceAccountUser``."""
        client = self.get_client(realm, client_uuid)
        if not client.get("_serviceUser"):
            raise ApiError(400, {"error": "Service account not enabled for the client"})
        user = self.get_user(realm, client["_serviceUser"])
        return json_response(self.user_rep(realm, user))

    def client_secret(self, request: Request, realm: str, client_uuid: str) -> Response:
        """keycloak ``ClientResource.getClientSecret``."""
        client = self.get_client(realm, client_uuid)
        return json_response({"type": "secret", "value": client.get("secret")})

    def client_scopes(self, request: Request, realm: str) -> Response:
        """keycloak ``ClientScopesResource``: list; create (409 on a name
        that exists: "Client Scope x already exists")."""
        scopes = self.realm_state(realm)["clientScopes"]
        if request.method == "GET":
            return json_response(list(scopes.values()))
        rep = _body_dict(request)
        name = rep.get("name")
        if not isinstance(name, str) or not name:
            raise _error(400, 'Unexpected name "null" for ClientScope')
        if any(s["name"] == name for s in scopes.values()):
            raise _error(409, f"Client Scope {name} already exists")
        scope = {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": rep.get("description", ""),
            "protocol": rep.get("protocol", "openid-connect"),
            "attributes": rep.get("attributes") or {},
            "protocolMappers": [],
        }
        scopes[scope["id"]] = scope
        return _created(f"{request.base_url.rstrip('/')}/{scope['id']}")

    def one_client_scope(self, request: Request, realm: str, scope_id: str) -> Response:
        return json_response(self.scope_by_id(realm, scope_id))

    def scope_mappers(self, request: Request, realm: str, scope_id: str) -> Response:
        """keycloak ``ProtocolMappersResource`` of a client scope."""
        scope = self.scope_by_id(realm, scope_id)
        return self.mappers_of(request, scope["protocolMappers"])


# -- protocol mapper values ----------------------------------------------


def _group_membership(
    kc: KeycloakEmulator, realm: str, client: Json, user: Json, config: Json
) -> Any:
    """keycloak ``GroupMembershipMapper.setClaim``: names, or full paths
    when ``full.path`` is "true"; a user in no group gets no claim at all
    (Keycloak 26.7.3 leaves it out rather than writing ``[]``)."""
    groups = kc.user_groups(realm, user)
    if not groups:
        return SKIP
    if config.get("full.path") == "true":
        return [kc.group_path(realm, g) for g in groups]
    return [g["name"] for g in groups]


def _realm_roles(
    kc: KeycloakEmulator, realm: str, client: Json, user: Json, config: Json
) -> Any:
    """keycloak ``UserRealmRoleMappingMapper``: scoped effective realm
    roles with an optional prefix; nothing when there are none."""
    prefix = config.get("usermodel.realmRoleMapping.rolePrefix") or ""
    roles = [prefix + r for r in kc.scoped_roles(realm, client, user)]
    return roles if roles else SKIP


def _user_property(
    kc: KeycloakEmulator, realm: str, client: Json, user: Json, config: Json
) -> Any:
    """keycloak ``UserPropertyMapper``: a user model property."""
    value = user.get(config.get("user.attribute") or "")
    if value is None:
        return SKIP
    if config.get("jsonType.label") == "boolean":
        return bool(value)
    return value


def _user_attribute(
    kc: KeycloakEmulator, realm: str, client: Json, user: Json, config: Json
) -> Any:
    """keycloak ``UserAttributeMapper``: a custom attribute's values."""
    values = user["attributes"].get(config.get("user.attribute") or "")
    if not values:
        return SKIP
    values = values if isinstance(values, list) else [values]
    return values if config.get("multivalued") == "true" else values[0]


def _full_name(
    kc: KeycloakEmulator, realm: str, client: Json, user: Json, config: Json
) -> Any:
    parts = [user.get("firstName"), user.get("lastName")]
    name = " ".join(p for p in parts if p)
    return name or SKIP


def _web_origins(
    kc: KeycloakEmulator, realm: str, client: Json, user: Json, config: Json
) -> Any:
    """keycloak ``AllowedWebOriginsProtocolMapper``: the client's origins."""
    return list(client.get("webOrigins") or []) or SKIP


FIXED_CLAIMS = {
    "oidc-sub-mapper": "sub",
    "oidc-acr-mapper": "acr",
    "oidc-allowed-origins-mapper": "allowed-origins",
}


def _client_roles(
    kc: KeycloakEmulator, realm: str, client: Json, user: Json, config: Json
) -> Any:
    """keycloak ``UserClientRoleMappingMapper``: the account console's roles,
    which every user gets through the realm's default roles."""
    return list(ACCOUNT_ROLES) if kc.has_account_roles(realm, client, user) else SKIP


VALUE_MAPPERS: dict[str, Callable[..., Any]] = {
    "oidc-sub-mapper": lambda kc, r, c, u, cfg: u["id"],
    "oidc-acr-mapper": lambda kc, r, c, u, cfg: "1",
    "oidc-allowed-origins-mapper": _web_origins,
    GROUP_MAPPER: _group_membership,
    "oidc-usermodel-realm-role-mapper": _realm_roles,
    CLIENT_ROLE_MAPPER: _client_roles,
    "oidc-usermodel-property-mapper": _user_property,
    "oidc-usermodel-attribute-mapper": _user_attribute,
    "oidc-full-name-mapper": _full_name,
    "oidc-hardcoded-claim-mapper": lambda kc, r, c, u, cfg: cfg.get("claim.value"),
}


def _included(config: Json, kind: str) -> bool:
    """Whether a mapper writes into a token of ``kind``.

    keycloak ``OIDCAttributeMapperHelper.includeIn*``: only the string
    "true" counts; a missing ``userinfo.token.claim`` follows the id-token
    flag and a missing ``introspection.token.claim`` the access-token flag.
    """
    access = config.get("access.token.claim") == "true"
    id_token = config.get("id.token.claim") == "true"
    if kind == "access":
        return access
    if kind == "id":
        return id_token
    if kind == "userinfo":
        value = config.get("userinfo.token.claim")
        return id_token if value is None else value == "true"
    value = config.get("introspection.token.claim")
    return access if value is None else value == "true"


def _map_claim(claims: Json, name: str, value: Any) -> None:
    """keycloak ``OIDCAttributeMapperHelper.mapClaim``: unescaped dots in
    the claim name make nested objects (``realm_access.roles``)."""
    parts = [p.replace("\\.", ".") for p in _split_unescaped(name, ".", "\\")]
    target = claims
    for part in parts[:-1]:
        nested = target.get(part)
        if not isinstance(nested, dict):
            nested = {}
            target[part] = nested
        target = nested
    _merge_claim(target, parts[-1], value)


def _merge_claim(target: Json, name: str, value: Any) -> None:
    """Set a claim; two multivalued mappers writing one claim add up (the
    ``microprofile-jwt`` roles and a group mapper both fill ``groups``)."""
    current = target.get(name)
    if isinstance(current, list) and isinstance(value, list):
        current.extend(value)
    else:
        target[name] = value


def _mapper_config(config: Any) -> dict[str, str]:
    """A mapper config as Keycloak 26 stores it: values as strings, and a
    missing ``userinfo.token.claim`` / ``introspection.token.claim`` copied
    from the id-token / access-token flag when that one is given (observed
    on Keycloak 26.7.3; absent both ways, it stays absent)."""
    stored = {str(k): str(v) for k, v in (config or {}).items()}
    follows = {
        "userinfo.token.claim": "id.token.claim",
        "introspection.token.claim": "access.token.claim",
    }
    for key, source in follows.items():
        if key not in stored and source in stored:
            stored[key] = stored[source]
    return stored


def _split_unescaped(text: str, sep: str = "/", escape: str = "~") -> list[str]:
    parts: list[str] = []
    current = ""
    for index, char in enumerate(text):
        if char == sep and not (index and text[index - 1] == escape):
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _add_audience(claims: Json, audience: str) -> None:
    current = claims.get("aud")
    if current is None:
        claims["aud"] = audience
    elif isinstance(current, list):
        if audience not in current:
            current.append(audience)
    elif current != audience:
        claims["aud"] = [current, audience]


def _matches(value: Any, wanted: str, exact: bool) -> bool:
    """Keycloak's name filters: exact and case-sensitive, or a
    case-insensitive substring."""
    if value is None:
        return False
    if exact:
        return str(value) == wanted
    return wanted.lower() in str(value).lower()


def _parse_q(query: str) -> dict[str, str]:
    """``key:value key2:value2`` as keycloak ``SearchQueryUtils`` reads it."""
    pairs = (item.split(":", 1) for item in query.split() if ":" in item)
    return {key: value for key, value in pairs}


def _attributes_match(group: Json, wanted: dict[str, str]) -> bool:
    attributes = group.get("attributes") or {}
    for key, value in wanted.items():
        values = attributes.get(key) or []
        values = values if isinstance(values, list) else [values]
        if value not in values:
            return False
    return True
