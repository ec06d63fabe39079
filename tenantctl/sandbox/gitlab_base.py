"""Foundations of the GitLab emulator: state, identities, access, pagination.

The feature modules (``gitlab_groups``, ``gitlab_repo``, ...) register their
routes on a ``GitLabBase`` and use the look-ups and rules defined here, so
that every endpoint hides, refuses and pages exactly the same way.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from urllib.parse import unquote, urlencode, urlsplit

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from tenantctl.sandbox.core import ApiError, Emulator, json_response

API = "/api/v4"

GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 20, 30, 40, 50
ACCESS_LEVELS = (5, GUEST, 15, REPORTER, DEVELOPER, MAINTAINER, OWNER)

_ROTATE_PATH = re.compile(r"/access_tokens/[^/]+/rotate/?$")
_ANY_SCOPE_PATHS = (f"{API}/user", f"{API}/personal_access_tokens/self")
_INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": (
        "The request requires higher privileges than provided by the access token."
    ),
    "scope": "api",
}

ApiHandler = Callable[..., Response]


def empty_state() -> dict[str, Any]:
    """A GitLab instance with nothing in it."""
    return {
        "seq": {},
        "admin_token": "",
        "users": {},
        "groups": {},
        "members": {},
        "projects": {},
        "tokens": {},
        "runners": {},
        "labels": {},
        "issues": {},
        "merge_requests": {},
        "variables": {"group": {}, "project": {}},
    }


def iso(ts: float) -> str:
    """A timestamp the way GitLab's API writes it (UTC, milliseconds, ``Z``)."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def digest(value: str) -> str:
    """How a secret is kept: GitLab stores token digests, not tokens."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A token value: the prefix and 20 URL-safe random characters."""
    return prefix + secrets.token_urlsafe(15)[:20]


def not_found(what: str) -> ApiError:
    """GitLab's 404 for a missing or hidden object (``404 Group Not Found``)."""
    return ApiError(404, {"message": f"404 {what} Not Found"})


def forbidden(reason: str | None = None) -> ApiError:
    """GitLab's 403 (``forbidden!`` in lib/api/helpers.rb)."""
    message = "403 Forbidden" + (f" - {reason}" if reason else "")
    return ApiError(403, {"message": message})


def bad_request(reason: str | None = None) -> ApiError:
    """GitLab's ``bad_request!``: ``400 Bad request - <reason>``."""
    message = "400 Bad request" + (f" - {reason}" if reason else "")
    return ApiError(400, {"message": message})


def invalid(field_name: str, *errors: str) -> ApiError:
    """A model validation failure: ``{"message": {"field": [...]}}``."""
    return ApiError(400, {"message": {field_name: list(errors)}})


def missing_param(name: str) -> ApiError:
    """Grape's answer to a required parameter left out."""
    return ApiError(400, {"error": f"{name} is missing"})


def truthy(value: Any) -> bool:
    """A boolean parameter as Grape reads it (JSON bools or form strings)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "t", "on")
    return bool(value)


@dataclass
class Actor:
    """Who sends the current request: a user and the token used, or nobody."""

    user: dict[str, Any] | None = None
    token: dict[str, Any] | None = None

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user.get("is_admin"))


@dataclass(eq=False)
class GitLabBase(Emulator):
    """State, authentication, access rules and pagination of the emulator."""

    name: str = "gitlab"
    rate_limit: int | None = None
    state: dict[str, Any] = field(default_factory=empty_state)

    def __post_init__(self) -> None:
        self.actor = Actor()
        self.web_base = "http://127.0.0.1"
        self._windows: dict[str, tuple[int, int]] = {}
        super().__post_init__()

    # -- persistence -----------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        return {"gitlab": self.state, "rate_limit": self.rate_limit}

    def load_state(self, data: dict[str, Any]) -> None:
        self.state = data["gitlab"]
        self.rate_limit = data.get("rate_limit")

    @property
    def admin_token(self) -> str:
        """The seeded administrator's personal access token."""
        return str(self.state["admin_token"])

    def next_id(self, kind: str) -> int:
        """The next id of a kind of object (ids are unique per kind)."""
        seq = self.state["seq"]
        seq[kind] = seq.get(kind, 0) + 1
        return int(seq[kind])

    def now(self) -> str:
        return iso(self.clock.now())

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock.now(), UTC).date()

    # -- routing ---------------------------------------------------------

    def add(self, rule: str, methods: str, fn: ApiHandler) -> None:
        """Serve ``fn(self, request, **args)`` at ``/api/v4<rule>``."""

        def handler(request: Request, **args: str) -> Response:
            return fn(self, request, **{k: unquote(v) for k, v in args.items()})

        handler.__name__ = fn.__name__
        self.route(API + rule, *methods.split(","))(handler)

    def routing_path(self, request: Request) -> str | None:
        """The raw path, so that ``administrators%2Fcicd`` stays one segment."""
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if not raw:
            return None
        path = str(raw).split("?", 1)[0]
        return urlsplit(path).path if "://" in path else path

    def dispatch(self, url_map: Map, request: Request) -> Response:
        """Answer, adding the rate-limit headers when throttling is on."""
        response = super().dispatch(url_map, request)
        headers = request.environ.get("sandbox.ratelimit") or {}
        for name, value in headers.items():
            response.headers[name] = value
        if response.status_code == 429 and "Retry-After" in headers:
            response.set_data(b"Retry later\n")
            response.content_type = "text/plain"
        return response

    # -- authentication (doc/api/rest/authentication.md) -------------------

    def authenticate(self, request: Request) -> None:
        """Identify the caller from ``PRIVATE-TOKEN`` or a Bearer token.

        Follows lib/gitlab/auth/auth_finders.rb: an unknown, revoked or
        expired token is 401; a revoked token presented to a rotate endpoint
        revokes its whole rotation chain first (reuse detection); a token
        without the scope the route needs is 403 ``insufficient_scope``.
        """
        self.actor = Actor()
        self.web_base = request.host_url.rstrip("/")
        value = token_value(request)
        self.throttle(request, value)
        if value is None:
            return
        token = self.token_by_value(value)
        if token is None or not self.token_active(token):
            reused = token is not None and token["revoked"]
            if token is not None and reused and _ROTATE_PATH.search(request.path):
                self.revoke_chain(token)
            raise ApiError(401, {"message": "401 Unauthorized"})
        self.check_scope(request, token)
        token["last_used_at"] = self.now()
        self.actor = Actor(self.state["users"][str(token["user_id"])], token)

    def check_scope(self, request: Request, token: dict[str, Any]) -> None:
        """Refuse a token whose scopes do not cover this request."""
        scopes = set(token["scopes"])
        path = request.path.rstrip("/")
        reading = request.method in ("GET", "HEAD")
        if reading and path in _ANY_SCOPE_PATHS:
            return
        if "api" in scopes or (reading and "read_api" in scopes):
            return
        if reading and "read_user" in scopes and path.startswith(f"{API}/users"):
            return
        runner = request.method == "POST" and path == f"{API}/user/runners"
        if runner and "create_runner" in scopes:
            return
        raise ApiError(403, _INSUFFICIENT_SCOPE)

    def token_by_value(self, value: str) -> dict[str, Any] | None:
        wanted = digest(value)
        for token in self.state["tokens"].values():
            if token["digest"] == wanted:
                return cast(dict[str, Any], token)
        return None

    def token_expired(self, token: dict[str, Any]) -> bool:
        """Tokens expire at 00:00 UTC on their ``expires_at`` date."""
        expires = token.get("expires_at")
        if not expires:
            return False
        return self.today() >= date.fromisoformat(str(expires))

    def token_active(self, token: dict[str, Any]) -> bool:
        return not token["revoked"] and not self.token_expired(token)

    def revoke_chain(self, token: dict[str, Any]) -> None:
        """Revoke every token linked to ``token`` by rotation, both ways.

        app/services/personal_access_tokens/revoke_token_family_service.rb
        """
        tokens = self.state["tokens"]
        family = {token["id"]}
        grew = True
        while grew:
            grew = False
            for other in tokens.values():
                linked = other.get("previous_id") in family or any(
                    tokens[str(i)].get("previous_id") == other["id"] for i in family
                )
                if linked and other["id"] not in family:
                    family.add(other["id"])
                    grew = True
        for token_id in family:
            tokens[str(token_id)]["revoked"] = True

    def require_user(self) -> dict[str, Any]:
        """The calling user; 401 for an anonymous request."""
        if self.actor.user is None:
            raise ApiError(401, {"message": "401 Unauthorized"})
        return self.actor.user

    # -- rate limiting (doc/administration/settings/user_and_ip_rate_limits.md)

    def throttle(self, request: Request, value: str | None) -> None:
        """Count the request in its one-minute window; 429 when over.

        Rack::Attack's fixed windows (config/initializers/rack_attack.rb):
        the key is the token (or the client address without one).
        """
        if self.rate_limit is None:
            return
        key = digest(value) if value else f"ip:{request.remote_addr}"
        now = self.clock.now()
        window = int(now // 60)
        start, used = self._windows.get(key, (window, 0))
        used = used + 1 if start == window else 1
        self._windows[key] = (window, used)
        reset = (window + 1) * 60
        headers = {
            "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Observed": str(used),
            "RateLimit-Remaining": str(max(self.rate_limit - used, 0)),
            "RateLimit-Reset": str(reset),
        }
        request.environ["sandbox.ratelimit"] = headers
        if used > self.rate_limit:
            retry = max(int(reset - now), 1)
            headers["Retry-After"] = str(retry)
            raise ApiError(429, "Retry later\n", headers)

    # -- users and access ----------------------------------------------

    def user(self, user_id: int) -> dict[str, Any]:
        return cast(dict[str, Any], self.state["users"][str(user_id)])

    def members_of(self, group: dict[str, Any]) -> dict[str, Any]:
        members: dict[str, Any] = self.state["members"].setdefault(str(group["id"]), {})
        return members

    def ancestors(self, group: dict[str, Any]) -> list[dict[str, Any]]:
        """The group's parents, nearest first."""
        chain = []
        parent_id = group.get("parent_id")
        while parent_id is not None:
            parent = self.state["groups"][str(parent_id)]
            chain.append(parent)
            parent_id = parent.get("parent_id")
        return chain

    def descendants(self, group: dict[str, Any]) -> list[dict[str, Any]]:
        """Every group below ``group``, at any depth."""
        found = []
        for other in self.state["groups"].values():
            if any(a["id"] == group["id"] for a in self.ancestors(other)):
                found.append(other)
        return found

    def access_level(self, group: dict[str, Any]) -> int:
        """The caller's access to ``group``, inherited from ancestors.

        Administrators act as Owners everywhere.
        """
        if self.actor.is_admin:
            return OWNER
        user = self.actor.user
        if user is None:
            return 0
        levels = [0]
        for each in [group, *self.ancestors(group)]:
            member = self.members_of(each).get(str(user["id"]))
            if member:
                levels.append(int(member["access_level"]))
        return max(levels)

    def can_read_group(self, group: dict[str, Any]) -> bool:
        """Whether the caller may see ``group`` (app/policies/group_policy.rb).

        Members of the group, of an ancestor or of a descendant see it;
        public groups are seen by all, internal ones by signed-in humans.
        """
        if self.access_level(group) > 0:
            return True
        visibility = group["visibility"]
        if visibility == "public":
            return True
        user = self.actor.user
        if user is not None and visibility == "internal" and not user.get("bot"):
            return True
        if user is None:
            return False
        uid = str(user["id"])
        return any(uid in self.members_of(d) for d in self.descendants(group))

    def require_level(self, group: dict[str, Any], level: int) -> None:
        """403 unless the caller holds at least ``level`` on ``group``."""
        if self.access_level(group) < level:
            raise forbidden()

    # -- look-ups ------------------------------------------------------

    def find_group(self, ref: str) -> dict[str, Any] | None:
        """A group by numeric id or full path (paths case-insensitively)."""
        groups = self.state["groups"]
        if ref.isdigit():
            found: dict[str, Any] | None = groups.get(ref)
            return found
        wanted = ref.strip("/").lower()
        for group in groups.values():
            if group["full_path"].lower() == wanted:
                return cast(dict[str, Any], group)
        return None

    def group_or_404(self, ref: str) -> dict[str, Any]:
        group = self.find_group(ref)
        if group is None or not self.can_read_group(group):
            raise not_found("Group")
        return group

    def project_group(self, project: dict[str, Any]) -> dict[str, Any]:
        group: dict[str, Any] = self.state["groups"][str(project["namespace_id"])]
        return group

    def find_project(self, ref: str) -> dict[str, Any] | None:
        """A project by numeric id or ``namespace/path`` (case-insensitive)."""
        projects = self.state["projects"]
        if ref.isdigit():
            found: dict[str, Any] | None = projects.get(ref)
            return found
        wanted = ref.strip("/").lower()
        for project in projects.values():
            if project["path_with_namespace"].lower() == wanted:
                return cast(dict[str, Any], project)
        return None

    def project_or_404(self, ref: str) -> dict[str, Any]:
        project = self.find_project(ref)
        if project is None or not self.can_read_project(project):
            raise not_found("Project")
        return project

    def can_read_project(self, project: dict[str, Any]) -> bool:
        if self.access_level(self.project_group(project)) > 0:
            return True
        if project["visibility"] == "public":
            return True
        user = self.actor.user
        internal = project["visibility"] == "internal"
        return bool(user and internal and not user.get("bot"))

    def project_level(self, project: dict[str, Any]) -> int:
        return self.access_level(self.project_group(project))

    def require_project_level(self, project: dict[str, Any], level: int) -> None:
        if self.project_level(project) < level:
            raise forbidden()

    # -- pagination (doc/api/rest/_index.md#pagination) ------------------

    def paginate(self, request: Request, items: list[Any]) -> Response:
        """One page of ``items`` with GitLab's offset-pagination headers."""
        per_page = min(max(int_param(request, "per_page", 20), 1), 100)
        page = max(int_param(request, "page", 1), 1)
        total = len(items)
        pages = max((total + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(total),
            "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": self.link_header(request, page, pages, per_page),
        }
        return json_response(chunk, 200, headers)

    def link_header(self, request: Request, page: int, pages: int, size: int) -> str:
        path = self.routing_path(request) or request.path
        base = request.host_url.rstrip("/") + path
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]

        def link(number: int, rel: str) -> str:
            params = [*query, ("page", str(number))]
            if "per_page" not in request.args:
                params.append(("per_page", str(size)))
            return f'<{base}?{urlencode(params)}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < pages:
            links.append(link(page + 1, "next"))
        links += [link(1, "first"), link(pages, "last")]
        return ", ".join(links)


def token_value(request: Request) -> str | None:
    """The token a request carries, from either header GitLab accepts."""
    private = request.headers.get("PRIVATE-TOKEN")
    if private:
        return private
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def int_param(request: Request, name: str, default: int) -> int:
    """An integer query parameter; Grape's 400 when it is not one."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise ApiError(400, {"error": f"{name} is invalid"}) from None


def expiry_in(days: int, today: date) -> str:
    return (today + timedelta(days=days)).isoformat()
