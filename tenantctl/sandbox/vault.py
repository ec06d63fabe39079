"""Vault emulator: token auth, JWT auth, ACL policies, a few ``sys/``
endpoints and KV version 2.

Follows the Vault 1.x HTTP API as hvac 2.x calls it (``hvac/api/secrets_engines
/kv_v2.py``) and the KV plugin's handlers (hashicorp ``vault-plugin-secrets-kv``
``path_data.go``, ``path_metadata.go``, ``path_config.go``, ``path_delete.go``,
``path_undelete.go``, ``path_destroy.go``). Answers carry Vault's envelope
The JWT auth method follows the Vault API docs (api-docs/auth/jwt.mdx:
Configure, Create Role, JWT Login) and the plugin's handlers (hashicorp
``vault-plugin-auth-jwt`` ``path_config.go``, ``path_role.go``,
``path_login.go``, ``claims.go``). Answers carry Vault's envelope
(``request_id``, ``lease_id``, ``renewable``, ``lease_duration``, ``data``,
``wrap_info``, ``warnings``, ``auth``); errors are ``{"errors": [...]}``.

Paths are relative to the mount: a client that writes ``secret/data/x`` into
the mount ``secret`` creates the literal key ``secret/data/x`` (readable at
``/v1/secret/data/secret/data/x``), as real Vault does.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jwcrypto import jwk, jws  # type: ignore[import-untyped]
from jwcrypto.common import JWException  # type: ignore[import-untyped]
from werkzeug.routing import Map, PathConverter
from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, Emulator, json_response

Json = dict[str, Any]

VERSION = "1.17.2"
DEFAULT_MAX_VERSIONS = 10
DENIED = ["1 error occurred:\n\t* permission denied\n\n"]
ALL_CAPABILITIES = ["create", "read", "update", "delete", "list", "patch", "sudo"]
# Vault's system default and maximum token TTL (32 days).
DEFAULT_TOKEN_TTL = 768 * 3600
# The JWT plugin's role defaults (api-docs/auth/jwt.mdx, Create Role).
JWT_LEEWAYS = {
    "clock_skew_leeway": 60,
    "expiration_leeway": 150,
    "not_before_leeway": 150,
}
_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_HCL_PATH = re.compile(r'path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}')


class _AnyPath(PathConverter):
    """Matches the rest of a URL, empty or with slashes."""

    regex = ".*"
    part_isolating = False


def rfc3339(timestamp: float) -> str:
    """A time as Vault writes it: RFC 3339, UTC, nanosecond digits."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    nanos = round((timestamp % 1) * 1e9) % 1_000_000_000
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def _errors(status: int, *messages: str) -> ApiError:
    return ApiError(status, {"errors": list(messages)})


def _no_content() -> Response:
    return Response(b"", status=204)


def _glob_matches(pattern: str, path: str) -> bool:
    """Vault ACL paths: ``+`` is one segment, a trailing ``*`` a prefix."""
    prefix = pattern.endswith("*")
    pattern = pattern[:-1] if prefix else pattern
    parts, target = pattern.split("/"), path.split("/")
    if prefix:
        if len(target) < len(parts):
            return False
        head = target[: len(parts)]
        head[-1] = head[-1][: len(parts[-1])]
        target = head
    if len(parts) != len(target):
        return False
    return all(p in ("+", t) for p, t in zip(parts, target, strict=True))


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as Vault's ``PATCH`` applies it."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def parse_duration(value: Any) -> int:
    """Seconds from Vault's duration fields: an integer, or a string of
    number-unit pairs (``90``, ``"1h30m"``, ``"20s"``); 400 otherwise."""
    if isinstance(value, bool):
        raise _errors(400, f"invalid duration: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise _errors(400, f'time: invalid duration "{text}"')
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


def parse_policy(text: str) -> dict[str, list[str]]:
    """An ACL policy document, in JSON or in the HCL subset of ``path
    "..." { capabilities = [...] }`` blocks (Vault docs: concepts/policies)."""
    try:
        doc = json.loads(text)
    except ValueError:
        blocks = _HCL_PATH.findall(text)
        if not blocks and text.strip():
            raise _errors(400, "failed to parse policy") from None
        return {path: re.findall(r'"([^"]+)"', caps) for path, caps in blocks}
    paths = doc.get("path") if isinstance(doc, dict) else None
    if not isinstance(paths, dict):
        raise _errors(400, "failed to parse policy")
    return {path: list(rule.get("capabilities") or []) for path, rule in paths.items()}


def _as_list(value: Any) -> list[Any]:
    """Vault's comma-string-or-list fields (``bound_audiences``...)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def _claim(claims: Json, name: str) -> Any:
    """A claim by name, or by JSON pointer (``/a/b``) as ``claims.go``
    ``getClaim`` allows."""
    if not name.startswith("/"):
        return claims.get(name)
    value: Any = claims
    for part in name[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


@dataclass
class VaultEmulator(Emulator):
    """Vault's token auth and a KV v2 mount, with their state."""

    name: str = "vault"
    mount: str = "secret"
    state: Json = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.state:
            self.state = self.empty_state()

    # -- public API ------------------------------------------------------

    @property
    def root_token(self) -> str:
        return str(self.state["root_token"])

    def empty_state(self) -> Json:
        root = f"hvs.{secrets.token_urlsafe(18)}"
        state: Json = {
            "root_token": root,
            "tokens": {},
            "namespaces": [""],
            "mounts": {},
            "auth": {},
            "policies": {},
            "cluster_id": str(uuid.uuid4()),
        }
        state["tokens"][root] = self.token_entry(["root"], {}, "root")
        return state

    def dump_state(self) -> Json:
        return copy.deepcopy(self.state)

    def load_state(self, data: Json) -> None:
        self.state = copy.deepcopy(data)

    def seed_platform(self) -> None:
        """A fresh Vault with an empty KV v2 mount (``secret`` by default)."""
        with self.lock:
            self.state = self.empty_state()
            self.add_kv_mount(self.mount)

    def add_kv_mount(self, name: str) -> None:
        self.state["mounts"][name] = {
            "uuid": str(uuid.uuid4()),
            "accessor": f"kv_{secrets.token_hex(4)}",
            "config": {
                "max_versions": 0,
                "cas_required": False,
                "delete_version_after": "0s",
            },
            "keys": {},
        }

    def create_token(
        self, policies: list[str], capabilities: dict[str, list[str]]
    ) -> str:
        """A token whose ACL grants ``capabilities`` per path glob.

        Paths are API paths without ``/v1/`` (``secret/data/team/*``).
        """
        token = f"hvs.{secrets.token_urlsafe(18)}"
        with self.lock:
            entry = self.token_entry(policies, capabilities, "token")
            self.state["tokens"][token] = entry
        return token

    def token_entry(
        self, policies: list[str], capabilities: dict[str, list[str]], name: str
    ) -> Json:
        root = policies == ["root"]
        return {
            "accessor": secrets.token_urlsafe(18),
            "policies": policies if root else sorted({"default", *policies}),
            "acl": {k: list(v) for k, v in capabilities.items()},
            "creation_time": int(self.clock.now()),
            "display_name": name,
            "path": "auth/token/root" if root else "auth/token/create",
        }

    # -- serving ---------------------------------------------------------

    def url_map(self) -> Map:
        return Map(
            [rule.empty() for rule in self._rules],
            strict_slashes=False,
            merge_slashes=False,
            converters={"anypath": _AnyPath},
        )

    def routes(self) -> None:
        self.route("/v1/sys/health", "GET", "HEAD")(self.health)
        self.route("/v1/sys/mounts", "GET")(self.mounts)
        self.route("/v1/auth/token/lookup-self", "GET")(self.lookup_self)
        self.route("/v1/sys/auth", "GET")(self.auth_methods)
        self.route("/v1/sys/auth/<auth_path>", "POST", "PUT", "DELETE")(
            self.auth_method
        )
        policy = ("GET", "POST", "PUT", "DELETE")
        self.route("/v1/sys/policy/<name>", *policy)(self.policy)
        self.route("/v1/sys/policies/acl/<name>", *policy)(self.policy)
        jwt = "/v1/auth/<auth_path>"
        self.route(f"{jwt}/config", "GET", "POST", "PUT")(self.jwt_config)
        role = ("GET", "POST", "PUT", "DELETE")
        self.route(f"{jwt}/role/<role>", *role)(self.jwt_role)
        self.route(f"{jwt}/login", "POST", "PUT")(self.jwt_login)
        kv = "/v1/<mount>"
        methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
        self.route(f"{kv}/data/<anypath:path>", *methods)(self.data)
        for action in ("delete", "undelete", "destroy"):
            rule = f"{kv}/{action}/<anypath:path>"
            self.route(rule, "POST", "PUT")(self.versions_action)
        metadata = ("GET", "POST", "PUT", "DELETE", "LIST")
        self.route(f"{kv}/metadata/<anypath:path>", *metadata)(self.metadata)
        self.route(f"{kv}/metadata", "GET", "LIST")(self.metadata)
        self.route(f"{kv}/config", "GET", "POST", "PUT")(self.config)
        any_method = ("GET", "POST", "PUT", "PATCH", "DELETE", "LIST")
        self.route("/v1/<anypath:rest>", *any_method)(self.no_route)

    def envelope(self, data: Any, status: int = 200) -> Response:
        return json_response(self.body(data), status)

    def body(self, data: Any) -> Json:
        return {
            "request_id": str(uuid.uuid4()),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": data,
            "wrap_info": None,
            "warnings": None,
            "auth": None,
            "mount_type": "kv",
        }

    # -- auth and ACL ----------------------------------------------------

    def authenticate(self, request: Request) -> None:
        """Vault answers 403 "permission denied" for a missing or unknown
        token (``vault/request_handling.go``), and for a namespace that does
        not exist (only the root namespace does here)."""
        if request.path.startswith("/v1/sys/health") or self.is_login(request):
            return
        namespace = request.headers.get("X-Vault-Namespace", "").strip("/")
        if namespace not in self.state["namespaces"] and namespace != "root":
            raise _errors(403, "permission denied")
        if self.token_of(request) is None:
            raise _errors(403, "permission denied")

    def token_of(self, request: Request) -> Json | None:
        token = request.headers.get("X-Vault-Token", "")
        header = request.headers.get("Authorization", "")
        if not token and header.lower().startswith("bearer "):
            token = header[7:].strip()
        entry = self.state["tokens"].get(token)
        if entry is None or self.expired(entry):
            return None
        return dict(entry)

    def expired(self, entry: Json) -> bool:
        """Vault revokes a token when its TTL runs out; a revoked token is
        answered like an unknown one (403 "permission denied")."""
        expires = entry.get("expire_time")
        return expires is not None and expires <= self.clock.now()

    def require(self, request: Request, path: str, capability: str) -> None:
        """403 unless the request's token may use ``capability`` on ``path``
        (``vault/acl.go``: an exact path wins, then the longest glob)."""
        entry = self.token_of(request)
        if entry is None:
            raise _errors(403, "permission denied")
        if "root" in entry["policies"]:
            return
        if capability not in self.capabilities(entry["acl"], path):
            raise ApiError(403, {"errors": DENIED})

    @staticmethod
    def capabilities(acl: dict[str, list[str]], path: str) -> list[str]:
        if path in acl:
            return acl[path]
        matches = [p for p in acl if _glob_matches(p, path)]
        if not matches:
            return []
        best = max(matches, key=lambda p: (len(p.rstrip("*")), p.count("+") == 0))
        return acl[best]

    # -- sys and auth/token ----------------------------------------------

    def health(self, request: Request) -> Response:
        """Vault ``GET /v1/sys/health`` (website/content/api-docs/system
        /health.mdx): no token needed."""
        return json_response(
            {
                "initialized": True,
                "sealed": False,
                "standby": False,
                "performance_standby": False,
                "replication_performance_mode": "disabled",
                "replication_dr_mode": "disabled",
                "server_time_utc": int(self.clock.now()),
                "version": VERSION,
                "enterprise": False,
                "cluster_name": "vault-cluster-sandbox",
                "cluster_id": self.state["cluster_id"],
                "echo_duration_ms": 0,
                "clock_skew_ms": 0,
            }
        )

    def mounts(self, request: Request) -> Response:
        """Vault ``GET /v1/sys/mounts``: the mounts, both at the top level
        (legacy) and under ``data``; KV v2 has ``options.version`` "2"."""
        self.require(request, "sys/mounts", "read")
        table = {
            "cubbyhole/": self.mount_entry("cubbyhole", "per-token private storage"),
            "identity/": self.mount_entry("identity", "identity store"),
            "sys/": self.mount_entry("system", "system endpoints"),
        }
        for name, mount in self.state["mounts"].items():
            entry = self.mount_entry("kv", "key/value secret storage")
            entry.update(uuid=mount["uuid"], accessor=mount["accessor"])
            entry["options"] = {"version": "2"}
            table[f"{name}/"] = entry
        return json_response(table | self.body(table))

    @staticmethod
    def mount_entry(kind: str, description: str) -> Json:
        return {
            "accessor": f"{kind}_{secrets.token_hex(4)}",
            "config": {
                "default_lease_ttl": 0,
                "force_no_cache": False,
                "max_lease_ttl": 0,
            },
            "description": description,
            "external_entropy_access": False,
            "local": kind == "cubbyhole",
            "options": None,
            "plugin_version": "",
            "running_plugin_version": f"v{VERSION}+builtin.vault",
            "running_sha256": "",
            "seal_wrap": kind == "cubbyhole",
            "type": kind,
            "uuid": str(uuid.uuid4()),
        }

    def lookup_self(self, request: Request) -> Response:
        """Vault ``GET /v1/auth/token/lookup-self`` (allowed by the
        ``default`` policy)."""
        entry = self.token_of(request)
        assert entry is not None
        token = request.headers.get("X-Vault-Token", "")
        data = {
            "accessor": entry["accessor"],
            "creation_time": entry["creation_time"],
            "creation_ttl": 0,
            "display_name": entry["display_name"],
            "entity_id": "",
            "expire_time": (
                rfc3339(entry["expire_time"]) if entry.get("expire_time") else None
            ),
            "explicit_max_ttl": 0,
            "id": token,
            "meta": entry.get("meta"),
            "num_uses": 0,
            "orphan": True,
            "path": entry["path"],
            "policies": entry["policies"],
            "renewable": False,
            "ttl": self.ttl_left(entry),
            "type": "service",
        }
        return self.envelope(data)

    def no_route(self, request: Request, rest: str) -> Response:
        """Vault's router: 404 "no handler for route" for unmounted paths."""
        raise _errors(404, f'no handler for route "{rest}". route entry not found.')

    # -- KV v2 -----------------------------------------------------------

    def kv(self, mount: str) -> Json:
        found = self.state["mounts"].get(mount)
        if found is None:
            raise _errors(
                404, f'no handler for route "{mount}". route entry not found.'
            )
        return dict(found)

    def version_meta(self, key: Json, number: int) -> Json:
        version = key["versions"][str(number)]
        return {
            "created_time": version["created_time"],
            "custom_metadata": key["custom_metadata"],
            "deletion_time": version["deletion_time"],
            "destroyed": version["destroyed"],
            "version": number,
        }

    def data(self, request: Request, mount: str, path: str) -> Response:
        """KV v2 ``/data/:path``: read, write, patch, soft-delete latest."""
        kv = self.kv(mount)
        api_path = f"{mount}/data/{path}"
        key = kv["keys"].get(path)
        if request.method == "GET":
            self.require(request, api_path, "read")
            return self.read(request, key)
        if request.method == "DELETE":
            self.require(request, api_path, "delete")
            if key is not None and key["current_version"]:
                version = key["versions"].get(str(key["current_version"]))
                if version is not None and not version["deletion_time"]:
                    version["deletion_time"] = rfc3339(self.clock.now())
            return _no_content()
        if request.method == "PATCH":
            self.require(request, api_path, "patch")
            return self.patch(request, kv, path)
        capability = "update" if key is not None else "create"
        self.require(request, api_path, capability)
        body = request.get_json(silent=True) or {}
        if not isinstance(body.get("data"), dict):
            raise _errors(400, "no data provided")
        return self.write(kv, path, body["data"], body.get("options") or {})

    def read(self, request: Request, key: Json | None) -> Response:
        """``path_data.go`` read: 404 ``{"errors": []}`` for nothing; a
        deleted or destroyed version is 404 with its metadata in ``data``."""
        if key is None or not key["current_version"]:
            raise _errors(404)
        number = int(request.args.get("version") or 0) or key["current_version"]
        version = key["versions"].get(str(number))
        if version is None:
            raise _errors(404)
        meta = self.version_meta(key, number)
        if version["deletion_time"] or version["destroyed"]:
            raise ApiError(404, self.body({"data": None, "metadata": meta}))
        return self.envelope({"data": version["data"], "metadata": meta})

    def check_cas(self, kv: Json, key: Json | None, options: Json) -> None:
        """``path_data.go``: ``cas`` must equal the current version (0 for a
        key with no metadata); required when the mount or key says so."""
        required = kv["config"]["cas_required"] or bool(key and key["cas_required"])
        cas = options.get("cas")
        if cas is None:
            if required:
                raise _errors(400, "check-and-set parameter required for this call")
            return
        current = key["current_version"] if key else 0
        if int(cas) != current:
            raise _errors(
                400, "check-and-set parameter did not match the current version"
            )

    def write(self, kv: Json, path: str, data: Json, options: Json) -> Response:
        """``path_data.go`` write: a new version; beyond ``max_versions``
        the oldest versions are removed for good."""
        keys = kv["keys"]
        self.check_cas(kv, keys.get(path), options)
        now = rfc3339(self.clock.now())
        key = keys.get(path) or self.new_key(now)
        keys[path] = key
        number = key["current_version"] + 1
        key["versions"][str(number)] = {
            "created_time": now,
            "deletion_time": "",
            "destroyed": False,
            "data": data,
        }
        key["current_version"] = number
        key["updated_time"] = now
        key["oldest_version"] = key["oldest_version"] or 1
        self.trim(kv, key)
        return self.envelope(self.version_meta(key, number))

    def trim(self, kv: Json, key: Json) -> None:
        limit = key["max_versions"] or kv["config"]["max_versions"]
        limit = limit or DEFAULT_MAX_VERSIONS
        numbers = sorted(int(n) for n in key["versions"])
        for number in numbers[: max(0, len(numbers) - limit)]:
            del key["versions"][str(number)]
        key["oldest_version"] = min(int(n) for n in key["versions"])

    def new_key(self, now: str) -> Json:
        return {
            "created_time": now,
            "updated_time": now,
            "current_version": 0,
            "oldest_version": 0,
            "max_versions": 0,
            "cas_required": False,
            "delete_version_after": "0s",
            "custom_metadata": None,
            "versions": {},
        }

    def patch(self, request: Request, kv: Json, path: str) -> Response:
        """``path_data.go`` patch: needs ``application/merge-patch+json``
        (415 otherwise); 404 unless the latest version is readable."""
        if request.mimetype != "application/merge-patch+json":
            raise _errors(
                415,
                "PATCH requires Content-Type of application/merge-patch+json,"
                f" provided {request.mimetype}",
            )
        key = kv["keys"].get(path)
        if key is None or not key["current_version"]:
            raise _errors(404)
        latest = key["versions"].get(str(key["current_version"]))
        if latest is None or latest["deletion_time"] or latest["destroyed"]:
            raise _errors(404)
        body = request.get_json(force=True, silent=True) or {}
        if not isinstance(body.get("data"), dict):
            raise _errors(400, "no data provided")
        merged = _merge_patch(latest["data"], body["data"])
        return self.write(kv, path, merged, body.get("options") or {})

    def versions_action(self, request: Request, mount: str, path: str) -> Response:
        """``path_delete.go``, ``path_undelete.go``, ``path_destroy.go``:
        soft-delete, restore or erase the listed versions."""
        kv = self.kv(mount)
        action = request.path.split("/")[3]
        self.require(request, f"{mount}/{action}/{path}", "update")
        body = request.get_json(silent=True) or {}
        numbers = body.get("versions") or []
        if not numbers:
            raise _errors(400, "no version number provided")
        key = kv["keys"].get(path)
        for number in numbers if key else []:
            version = key["versions"].get(str(number)) if key else None
            if version is None or version["destroyed"]:
                continue
            if action == "delete" and not version["deletion_time"]:
                version["deletion_time"] = rfc3339(self.clock.now())
            elif action == "undelete":
                version["deletion_time"] = ""
            elif action == "destroy":
                version.update(destroyed=True, data=None)
        return _no_content()

    def metadata(self, request: Request, mount: str, path: str = "") -> Response:
        """``path_metadata.go``: read, list, write (fields sent; custom
        metadata replaced whole), delete (all versions)."""
        kv = self.kv(mount)
        api_path = f"{mount}/metadata/{path}"
        listing = request.method == "LIST" or request.args.get("list") == "true"
        if listing:
            folder = api_path if api_path.endswith("/") else f"{api_path}/"
            if "list" not in self.allowed(request, folder, api_path):
                raise ApiError(403, {"errors": DENIED})
            return self.list_keys(kv, path)
        key = kv["keys"].get(path)
        if request.method == "GET":
            self.require(request, api_path, "read")
            if key is None:
                raise _errors(404)
            return self.envelope(self.metadata_view(key))
        if request.method == "DELETE":
            self.require(request, api_path, "delete")
            kv["keys"].pop(path, None)
            return _no_content()
        self.require(request, api_path, "update" if key else "create")
        self.write_metadata(kv, path, request.get_json(silent=True) or {})
        return _no_content()

    def allowed(self, request: Request, *paths: str) -> list[str]:
        entry = self.token_of(request)
        if entry is None:
            return []
        if "root" in entry["policies"]:
            return ALL_CAPABILITIES
        found: list[str] = []
        for path in paths:
            found += self.capabilities(entry["acl"], path)
        return found

    def metadata_view(self, key: Json) -> Json:
        versions = {
            number: {k: v for k, v in version.items() if k != "data"}
            for number, version in key["versions"].items()
        }
        view = {k: v for k, v in key.items() if k != "versions"}
        return view | {"versions": versions}

    def write_metadata(self, kv: Json, path: str, body: Json) -> None:
        custom = body.get("custom_metadata")
        if custom is not None and not isinstance(custom, dict):
            raise _errors(400, "custom_metadata must be a map of strings")
        key = kv["keys"].get(path) or self.new_key(rfc3339(self.clock.now()))
        kv["keys"][path] = key
        for field_name in ("max_versions", "cas_required", "delete_version_after"):
            if field_name in body:
                key[field_name] = body[field_name]
        if custom is not None:
            key["custom_metadata"] = {k: str(v) for k, v in custom.items()}
        key["updated_time"] = rfc3339(self.clock.now())

    def list_keys(self, kv: Json, path: str) -> Response:
        """``path_metadata.go`` list: direct children, folders end in
        ``/``; 404 ``{"errors": []}`` when there are none."""
        prefix = path if not path or path.endswith("/") else f"{path}/"
        children: set[str] = set()
        for name in kv["keys"]:
            if name.startswith(prefix) and name != prefix:
                rest = name[len(prefix) :]
                head, slash, _ = rest.partition("/")
                children.add(head + slash)
        if not children:
            raise _errors(404)
        return self.envelope({"keys": sorted(children)})

    def config(self, request: Request, mount: str) -> Response:
        """``path_config.go``: the mount's ``max_versions``, ``cas_required``,
        ``delete_version_after``; a write changes the fields sent."""
        kv = self.kv(mount)
        if request.method == "GET":
            self.require(request, f"{mount}/config", "read")
            return self.envelope(dict(kv["config"]))
        self.require(request, f"{mount}/config", "update")
        body = request.get_json(silent=True) or {}
        for name in ("max_versions", "cas_required", "delete_version_after"):
            if name in body:
                kv["config"][name] = body[name]
        return _no_content()

    # -- tokens with a TTL -----------------------------------------------

    def ttl_left(self, entry: Json) -> int:
        expires = entry.get("expire_time")
        return max(0, int(expires - self.clock.now())) if expires else 0

    def policy_acl(self, names: list[str]) -> dict[str, list[str]]:
        """The union of the named policies' rules; Vault lets a role name a
        policy that does not exist yet (it grants nothing)."""
        acl: dict[str, list[str]] = {}
        for name in names:
            for path, caps in (
                self.state.setdefault("policies", {}).get(name, {}).items()
            ):
                acl[path] = sorted({*acl.get(path, []), *caps})
        return acl

    # -- sys/auth and sys/policy -----------------------------------------

    def auth_methods(self, request: Request) -> Response:
        """Vault ``GET /v1/sys/auth`` (api-docs/system/auth.mdx): the enabled
        auth methods, ``token/`` always among them."""
        self.require(request, "sys/auth", "read")
        table = {"token/": self.mount_entry("token", "token based credentials")}
        for path, method in self.state.setdefault("auth", {}).items():
            entry = self.mount_entry(method["type"], method["description"])
            entry["accessor"] = method["accessor"]
            table[f"{path}/"] = entry
        return json_response(table | self.body(table))

    def auth_method(self, request: Request, auth_path: str) -> Response:
        """Vault ``POST/DELETE /v1/sys/auth/:path`` (api-docs/system/auth.mdx,
        Enable and Disable Auth Method). Only the ``jwt`` type is emulated;
        a path in use is 400, as Vault answers."""
        self.require(request, f"sys/auth/{auth_path}", "sudo")
        methods = self.state.setdefault("auth", {})
        if request.method == "DELETE":
            methods.pop(auth_path, None)
            return _no_content()
        body = request.get_json(silent=True) or {}
        kind = body.get("type")
        if auth_path in methods or auth_path == "token":
            raise _errors(400, f"path is already in use at {auth_path}/")
        if kind != "jwt":
            raise _errors(400, f"plugin not found in the catalog: {kind}")
        methods[auth_path] = {
            "type": "jwt",
            "description": str(body.get("description") or ""),
            "accessor": f"auth_jwt_{secrets.token_hex(4)}",
            "config": None,
            "roles": {},
        }
        return _no_content()

    def policy(self, request: Request, name: str) -> Response:
        """Vault ``/v1/sys/policy/:name`` and ``/v1/sys/policies/acl/:name``
        (api-docs/system/policy.mdx): read, write, delete an ACL policy."""
        policies = self.state.setdefault("policies", {})
        capability = {"GET": "read", "DELETE": "delete"}.get(request.method, "update")
        self.require(request, f"sys/policy/{name}", capability)
        if request.method == "GET":
            if name not in policies:
                raise _errors(404)
            text = json.dumps(
                {"path": {p: {"capabilities": c} for p, c in policies[name].items()}}
            )
            return self.envelope({"name": name, "rules": text, "policy": text})
        if request.method == "DELETE":
            policies.pop(name, None)
            return _no_content()
        body = request.get_json(silent=True) or {}
        if name == "root":
            raise _errors(400, 'cannot update "root" policy')
        policies[name] = parse_policy(str(body.get("policy") or ""))
        return _no_content()

    # -- auth/jwt ----------------------------------------------------------

    def is_login(self, request: Request) -> bool:
        """A login to an enabled JWT mount needs no token; to any other path
        Vault wants one (403 without)."""
        parts = request.path.split("/")
        return (
            len(parts) == 5
            and parts[1:3] == ["v1", "auth"]
            and parts[4] == "login"
            and parts[3] in self.state.setdefault("auth", {})
        )

    def jwt_mount(self, auth_path: str) -> Json:
        found = self.state.setdefault("auth", {}).get(auth_path)
        if found is None:
            raise _errors(
                404,
                f'no handler for route "auth/{auth_path}". route entry not found.',
            )
        return dict(found)

    def jwt_config(self, request: Request, auth_path: str) -> Response:
        """``path_config.go``: exactly one key source. The sandbox checks
        signatures against ``jwt_validation_pubkeys`` (PEM) only: it never
        fetches a ``jwks_url`` or discovery document from another host."""
        mount = self.jwt_mount(auth_path)
        api_path = f"auth/{auth_path}/config"
        if request.method == "GET":
            self.require(request, api_path, "read")
            if mount["config"] is None:
                raise _errors(404)
            return self.envelope(dict(mount["config"]))
        self.require(request, api_path, "update")
        body = request.get_json(silent=True) or {}
        sources = ("jwt_validation_pubkeys", "jwks_url", "oidc_discovery_url")
        given = [name for name in sources if body.get(name)]
        if len(given) != 1:
            raise _errors(
                400,
                "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or "
                "'oidc_discovery_url' must be set",
            )
        if given != ["jwt_validation_pubkeys"]:
            raise _errors(400, "the sandbox supports jwt_validation_pubkeys only")
        keys = _as_list(body["jwt_validation_pubkeys"])
        for pem in keys:
            self.public_key(pem)
        self.state["auth"][auth_path]["config"] = {
            "jwt_validation_pubkeys": keys,
            "bound_issuer": str(body.get("bound_issuer") or ""),
            "jwt_supported_algs": _as_list(body.get("jwt_supported_algs")) or ["RS256"],
            "default_role": str(body.get("default_role") or ""),
            "jwks_url": "",
            "oidc_discovery_url": "",
        }
        return _no_content()

    @staticmethod
    def public_key(pem: str) -> jwk.JWK:
        try:
            return jwk.JWK.from_pem(pem.encode())
        except (ValueError, TypeError):
            raise _errors(400, "error parsing public key") from None

    def jwt_role(self, request: Request, auth_path: str, role: str) -> Response:
        """``path_role.go``: read, write (fields sent), delete a role."""
        mount = self.jwt_mount(auth_path)
        api_path = f"auth/{auth_path}/role/{role}"
        roles = self.state["auth"][auth_path]["roles"]
        if request.method == "GET":
            self.require(request, api_path, "read")
            if role not in mount["roles"]:
                raise _errors(404)
            return self.envelope(dict(mount["roles"][role]))
        if request.method == "DELETE":
            self.require(request, api_path, "delete")
            roles.pop(role, None)
            return _no_content()
        self.require(request, api_path, "update")
        body = request.get_json(silent=True) or {}
        roles[role] = self.role_entry(roles.get(role), body)
        return _no_content()

    def role_entry(self, old: Json | None, body: Json) -> Json:
        """A role from the fields sent over the old one; ``path_role.go``
        refuses a role without ``user_claim`` or, for ``jwt`` roles,
        without any bound constraint."""
        role: Json = (
            dict(old)
            if old
            else {
                "role_type": "jwt",
                "bound_audiences": [],
                "bound_subject": "",
                "bound_claims": None,
                "bound_claims_type": "string",
                "user_claim": "",
                "token_policies": [],
                "token_ttl": 0,
                "token_max_ttl": 0,
                **JWT_LEEWAYS,
            }
        )
        for name in ("role_type", "bound_subject", "user_claim", "bound_claims_type"):
            if name in body:
                role[name] = str(body[name])
        for name in ("bound_audiences", "token_policies"):
            if name in body:
                role[name] = _as_list(body[name])
        for name in ("token_ttl", "token_max_ttl", *JWT_LEEWAYS):
            if name in body:
                role[name] = parse_duration(body[name])
        if "bound_claims" in body:
            role["bound_claims"] = body["bound_claims"] or None
        self.check_role(role)
        return role

    @staticmethod
    def check_role(role: Json) -> None:
        if role["role_type"] not in ("jwt", "oidc"):
            raise _errors(400, f"invalid 'role_type': {role['role_type']}")
        if role["bound_claims_type"] not in ("string", "glob"):
            raise _errors(
                400, f"invalid 'bound_claims_type': {role['bound_claims_type']}"
            )
        if not role["user_claim"]:
            raise _errors(400, "a user claim must be defined on the role")
        bound = role["bound_audiences"] or role["bound_subject"] or role["bound_claims"]
        if role["role_type"] == "jwt" and not bound:
            raise _errors(
                400,
                "must have at least one bound constraint when creating/updating a role",
            )

    def jwt_login(self, request: Request, auth_path: str) -> Response:
        """``path_login.go``: check the role, the signature, the registered
        claims and the role's bound claims; then a token with the role's
        policies and TTL. Every refusal is 400 with Vault's message."""
        mount = self.jwt_mount(auth_path)
        body = request.get_json(silent=True) or {}
        config = mount["config"]
        if config is None:
            raise _errors(400, "could not load configuration")
        name = str(body.get("role") or config["default_role"] or "")
        if not name:
            raise _errors(400, "missing role")
        role = mount["roles"].get(name)
        if role is None:
            raise _errors(400, f'role "{name}" could not be found')
        if role["role_type"] == "oidc":
            raise _errors(400, "role with oidc role_type is not allowed")
        raw = str(body.get("jwt") or "")
        if not raw:
            raise _errors(400, "missing token")
        claims = self.verified_claims(config, raw)
        self.check_registered_claims(config, role, claims)
        user = self.check_bound_claims(role, claims)
        return self.login_answer(auth_path, name, role, user)

    def verified_claims(self, config: Json, raw: str) -> Json:
        """The JWT's claims once its signature checks out against one of the
        configured keys, with an allowed algorithm."""
        token = jws.JWS()
        try:
            token.deserialize(raw)
            alg = token.jose_header.get("alg")
        except (JWException, ValueError):
            raise _errors(400, "error validating token: malformed token") from None
        if alg not in config["jwt_supported_algs"]:
            raise _errors(
                400, f"error validating token: unsupported signing algorithm {alg}"
            )
        for pem in config["jwt_validation_pubkeys"]:
            try:
                token.verify(self.public_key(pem), alg=alg)
            except JWException:
                continue
            claims = json.loads(token.payload)
            if isinstance(claims, dict):
                return claims
        raise _errors(
            400, "error validating token: failed to verify id token signature"
        )

    def check_registered_claims(self, config: Json, role: Json, claims: Json) -> None:
        """``iss``, ``aud``, ``exp`` and ``nbf`` as the plugin checks them
        for ``jwt`` roles, with the role's leeways (Create Role docs)."""
        now = self.clock.now()
        skew = role["clock_skew_leeway"]
        if config["bound_issuer"] and claims.get("iss") != config["bound_issuer"]:
            raise _errors(400, "error validating token: invalid issuer (iss) claim")
        audiences = _as_list(claims.get("aud"))
        if role["bound_audiences"] and not set(audiences) & set(
            role["bound_audiences"]
        ):
            raise _errors(
                400,
                "error validating token: invalid audience (aud) claim: audience "
                "claim does not match any expected audience",
            )
        if audiences and not role["bound_audiences"]:
            raise _errors(
                400,
                "error validating token: audience claim found in JWT but no "
                "audiences bound to the role",
            )
        exp = claims.get("exp")
        if exp is not None and now > float(exp) + role["expiration_leeway"] + skew:
            raise _errors(
                400,
                "error validating token: invalid expiration time (exp) claim: "
                "token is expired",
            )
        nbf = claims.get("nbf")
        if nbf is not None and now < float(nbf) - role["not_before_leeway"] - skew:
            raise _errors(
                400,
                "error validating token: invalid not before (nbf) claim: token "
                "not yet valid",
            )

    @staticmethod
    def check_bound_claims(role: Json, claims: Json) -> str:
        """``claims.go`` ``validateBoundClaims``: every bound claim present
        and matching one of its values (exactly, or as a glob); then the
        user claim, which must be a string. Returns the user claim."""
        if role["bound_subject"] and claims.get("sub") != role["bound_subject"]:
            raise _errors(400, "sub claim does not match bound subject")
        glob = role["bound_claims_type"] == "glob"
        for name, expected in (role["bound_claims"] or {}).items():
            value = _claim(claims, name)
            if value is None:
                raise _errors(
                    400, f'error validating claims: claim "{name}" is missing'
                )
            wanted = [str(v) for v in _as_list(expected)]
            found = [str(v) for v in (value if isinstance(value, list) else [value])]
            if not any(
                fnmatch.fnmatchcase(f, w) if glob else f == w
                for f in found
                for w in wanted
            ):
                raise _errors(
                    400,
                    f'error validating claims: claim "{name}" does not match any '
                    "associated bound claim values",
                )
        user = _claim(claims, role["user_claim"])
        if user is None:
            raise _errors(400, f'claim "{role["user_claim"]}" not found in token')
        if not isinstance(user, str | int | float) or isinstance(user, bool):
            raise _errors(
                400, f'claim "{role["user_claim"]}" could not be converted to string'
            )
        return str(user)

    def login_answer(
        self, auth_path: str, name: str, role: Json, user: str
    ) -> Response:
        """A new service token with the role's policies and TTL, in the
        ``auth`` block of Vault's answer."""
        ttl = role["token_ttl"] or DEFAULT_TOKEN_TTL
        if role["token_max_ttl"]:
            ttl = min(ttl, role["token_max_ttl"])
        policies = list(role["token_policies"])
        entry = self.token_entry(
            policies, self.policy_acl(policies), f"{auth_path}-{user}"
        )
        entry.update(
            path=f"auth/{auth_path}/login",
            expire_time=self.clock.now() + ttl,
            meta={"role": name},
        )
        token = f"hvs.{secrets.token_urlsafe(18)}"
        self.state["tokens"][token] = entry
        auth = {
            "client_token": token,
            "accessor": entry["accessor"],
            "policies": entry["policies"],
            "token_policies": entry["policies"],
            "identity_policies": None,
            "metadata": {"role": name},
            "lease_duration": ttl,
            "renewable": True,
            "entity_id": str(uuid.uuid4()),
            "token_type": "service",
            "orphan": True,
            "mfa_requirement": None,
            "num_uses": 0,
        }
        return json_response(self.body(None) | {"auth": auth, "mount_type": "jwt"})
