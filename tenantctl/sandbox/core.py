"""The machinery the three emulators share: HTTP serving, clock, faults, counts.

Each emulator is a werkzeug WSGI application with its own state. This module
gives them a router, JSON helpers, a movable clock, fault injection, per-route
request counts and a control API under ``/_sandbox/`` so that tests, and a
sandbox running in another process, can steer them over HTTP.

The sandbox shares no code with tenantctl's steps or adapters on purpose: a
bug in one must not hide a bug in the other.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

Handler = Callable[..., Response]


class Clock:
    """Wall-clock time that tests can move forward (for expiry and rotation)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Fault:
    """One injected failure: matching requests get it instead of an answer.

    ``status`` answers with that code (and ``retry_after`` when set);
    ``delay`` sleeps first (seconds), and alone (no status or body) then
    lets the request through, as a slow server would; ``drop`` closes the
    connection without an answer; ``drop_after`` lets the request do its
    work, then closes the connection before the answer (the case where a
    client's retry of a POST could make a duplicate). ``times`` is how many
    matching requests it hits (0 = all); ``after`` lets that many matching
    requests through first.
    """

    method: str = "*"
    path: str = ".*"
    status: int | None = None
    body: Any = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    drop_after: bool = False
    times: int = 1
    after: int = 0
    seen: int = 0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        return re.search(self.path, path) is not None

    def take(self) -> bool:
        """Count a matching request; True when the fault applies to it."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times and self.hits >= self.times:
            return False
        self.hits += 1
        return True


class DroppedConnection(Exception):
    """Raised inside a handler to close the connection without an answer."""


class ApiError(Exception):
    """An HTTP error answer with a JSON body, raised from handlers."""

    def __init__(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def json_response(
    data: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(data),
        status=status,
        headers=headers or {},
        content_type="application/json",
    )


def request_data(request: Request) -> dict[str, Any]:
    """The parameters of a request, whatever way the client sent them.

    python-gitlab sends JSON bodies; other clients send forms or query
    strings. Repeated keys (``scopes[]=a&scopes[]=b``) become lists.
    """
    data: dict[str, Any] = {}
    for source in (request.args, request.form):
        for key in source:
            values = source.getlist(key)
            name = key[:-2] if key.endswith("[]") else key
            data[name] = values if key.endswith("[]") else values[-1]
    if request.mimetype == "application/json" and request.get_data():
        body = json.loads(request.get_data())
        if isinstance(body, dict):
            data.update(body)
        else:
            data["_body"] = body
    return data


@dataclass
class Route:
    rule: str
    methods: tuple[str, ...]
    endpoint: str


@dataclass
class Emulator:
    """A stateful emulated service: routes, state, clock, faults and counts."""

    name: str
    clock: Clock = field(default_factory=Clock)
    faults: list[Fault] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    state_file: Path | None = None

    def __post_init__(self) -> None:
        self._rules: list[Rule] = []
        self._handlers: dict[str, Handler] = {}
        self.add_control_routes()
        self.routes()

    # -- to be provided by each emulator ---------------------------------

    def routes(self) -> None:
        """Register the emulated API's routes with ``self.route``."""

    def seed_platform(self) -> None:
        """Fill a fresh emulator with the platform of platform.md."""

    def dump_state(self) -> dict[str, Any]:
        """The emulator's whole state as JSON-ready data."""
        return {}

    def load_state(self, data: dict[str, Any]) -> None:
        """Replace the emulator's state with data from ``dump_state``."""

    def authenticate(self, request: Request) -> None:
        """Raise ApiError(401/403) unless the request may go on."""

    def routing_path(self, request: Request) -> str | None:
        """The path to match routes against; None means the decoded path.

        An API whose ids may hold encoded slashes (GitLab's ``a%2Fb``)
        returns the raw, still-encoded path and decodes arguments itself.
        """
        return None

    # -- routing ---------------------------------------------------------

    def route(self, rule: str, *methods: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            endpoint = f"{handler.__name__}:{rule}:{','.join(methods)}"
            self._rules.append(Rule(rule, methods=list(methods), endpoint=endpoint))
            self._handlers[endpoint] = handler
            return handler

        return register

    def url_map(self) -> Map:
        return Map(self._rules, strict_slashes=False, merge_slashes=False)

    # -- control API -----------------------------------------------------

    def add_control_routes(self) -> None:
        @self.route("/_sandbox/clock", "GET", "POST")
        def clock(request: Request) -> Response:
            if request.method == "POST":
                body = request_data(request)
                self.clock.advance(float(body.get("advance_seconds", 0)))
            return json_response({"now": self.clock.now()})

        @self.route("/_sandbox/faults", "GET", "POST", "DELETE")
        def faults(request: Request) -> Response:
            if request.method == "POST":
                self.faults.append(Fault(**request_data(request)))
            elif request.method == "DELETE":
                self.faults.clear()
            return json_response([asdict(fault) for fault in self.faults])

        @self.route("/_sandbox/counts", "GET", "DELETE")
        def counts(request: Request) -> Response:
            if request.method == "DELETE":
                self.counts.clear()
            return json_response(dict(self.counts))

        @self.route("/_sandbox/state", "GET")
        def state(request: Request) -> Response:
            with self.lock:
                return json_response(self.dump_state())

    # -- serving ---------------------------------------------------------

    def wsgi(self) -> Callable[..., Iterable[bytes]]:
        url_map = self.url_map()

        def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            request = Request(environ)
            response = self.dispatch(url_map, request)
            return response(environ, start_response)

        return app

    def dispatch(self, url_map: Map, request: Request) -> Response:
        adapter = url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match(path_info=self.routing_path(request))
        except NotFound:
            return json_response({"error": "404 Not Found"}, 404)
        except MethodNotAllowed:
            return json_response({"error": "405 Method Not Allowed"}, 405)
        except HTTPException as exc:
            return json_response({"error": str(exc)}, exc.code or 400)

        control = request.path.startswith("/_sandbox/")
        if not control:
            self.counts[f"{request.method} {self.count_key(endpoint)}"] += 1
            fault = self.fault_for(request)
            if fault is not None:
                faulted = self.apply_fault(fault)
                if faulted is not None:
                    return faulted
                if fault.drop_after:
                    self.answer(endpoint, args, request, control)
                    raise DroppedConnection(fault.path)
        return self.answer(endpoint, args, request, control)

    def answer(
        self, endpoint: str, args: Mapping[str, Any], request: Request, control: bool
    ) -> Response:
        """The handler's answer, or the API error it raised, as a response."""

        try:
            with self.lock:
                if not control:
                    self.authenticate(request)
                response = self._handlers[endpoint](request, **args)
                if not control and request.method != "GET":
                    self.save()
                return response
        except ApiError as exc:
            return json_response(exc.body, exc.status, exc.headers)

    def count_key(self, endpoint: str) -> str:
        return endpoint.split(":", 1)[1].rsplit(":", 1)[0]

    def fault_for(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                matches = fault.matches(request.method, request.full_path)
                if matches and fault.take():
                    return fault
        return None

    def apply_fault(self, fault: Fault) -> Response | None:
        """The fault's answer; None for a pure delay, which then lets the
        request through to its handler (a slow server, not a failing one)."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            raise DroppedConnection(fault.path)
        if fault.drop_after or (
            fault.delay and fault.status is None and fault.body is None
        ):
            return None
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        body = fault.body if fault.body is not None else {"message": "injected"}
        return json_response(body, fault.status or 500, headers)

    # -- persistence -----------------------------------------------------

    def save(self) -> None:
        if self.state_file is None:
            return
        # The state holds the sandbox's tokens: readable by its owner only.
        tmp = self.state_file.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(self.dump_state()))
        tmp.replace(self.state_file)

    def restore(self) -> bool:
        if self.state_file is None or not self.state_file.exists():
            return False
        self.load_state(json.loads(self.state_file.read_text()))
        return True


class _QuietHandler(WSGIRequestHandler):
    """Serves requests without logging each one to stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


def _clocked_handler(clock: Clock) -> type[_QuietHandler]:
    """A handler whose ``Date`` header reads the emulator's movable clock.

    Real servers date every answer with their own clock (RFC 9110, section
    6.6.1: an origin server with a clock MUST send ``Date``); clients such
    as ``tenantctl status`` take "now" from it, so a test that moves the
    sandbox clock sees the servers' time move too.
    """

    class Clocked(_QuietHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            moment = clock.now() if timestamp is None else timestamp
            return super().date_time_string(moment)

    return Clocked


def _quiet_log(type: str, message: str, *args: Any) -> None:
    """Drops the server's own log lines (a dropped connection logs one)."""


def serve(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """Start serving ``emulator`` on a thread; return the running server."""
    app = emulator.wsgi()

    def guarded(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        except DroppedConnection:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            raise

    handler = _clocked_handler(emulator.clock)
    server = make_server(host, port, guarded, threaded=True, request_handler=handler)
    server.log = _quiet_log  # type: ignore[method-assign]
    thread = threading.Thread(
        target=server.serve_forever, name=f"sandbox-{emulator.name}", daemon=True
    )
    thread.start()
    return server
