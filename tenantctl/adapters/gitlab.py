"""GitLab, through python-gitlab: one client, its errors made readable.

Timeouts, retries on 429 (honouring ``Retry-After``) and on 5xx, and
pagination are set here once for every caller. Methods return plain dicts
(the REST representation) so steps stay independent of python-gitlab's
object model.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import gitlab
import requests
from gitlab import exceptions as glexc

from tenantctl.adapters.transport import log_http, status_hint, transport_error
from tenantctl.config import GitLabSettings
from tenantctl.errors import RemoteError
from tenantctl.secrets import Secret

log = logging.getLogger(__name__)

SYSTEM = "GitLab"
Json = dict[str, Any]


@dataclass(frozen=True)
class RepoFile:
    """A file of a repository as it stands on a branch."""

    path: str
    content: str
    sha256: str
    last_commit_id: str


class GitLab:
    """The GitLab API as tenantctl uses it."""

    def __init__(self, settings: GitLabSettings, token: Secret) -> None:
        self.settings = settings
        self.url = settings.url
        self._gl = self._client(token)

    def _client(self, token: Secret) -> gitlab.Gitlab:
        client = _Client(
            self.settings.url,
            private_token=token.reveal(),
            timeout=self.settings.timeout,
            ssl_verify=self.settings.ssl_verify,
            # python-gitlab retries 429s (after Retry-After) and, with this,
            # 5xx and failed connections (backing off 0.1 s, doubling), up to
            # gitlab.max_retries times a request. A retried POST may have
            # landed: steps look objects up by name before creating them.
            retry_transient_errors=True,
            per_page=self.settings.per_page,
        )
        client.max_retries = self.settings.max_retries
        log_http(client.session, SYSTEM)
        return client

    # -- plumbing --------------------------------------------------------

    @contextmanager
    def errors(self, what: str, credential: str = "GITLAB_TOKEN") -> Iterator[None]:
        """Translate python-gitlab and requests failures for ``what``."""
        try:
            yield
        except glexc.GitlabError as exc:
            raise self._http_error(what, exc, credential) from None
        except requests.RequestException as exc:
            raise transport_error(SYSTEM, self.url, "gitlab", exc) from None

    def _http_error(
        self, what: str, exc: glexc.GitlabError, credential: str
    ) -> RemoteError:
        status = exc.response_code
        message = _server_message(exc).removeprefix(f"{status} ")
        return RemoteError(
            SYSTEM,
            f"{what} failed: {status} {message}".strip(),
            status=status,
            url=self.url,
            hint=status_hint(status, credential),
        )

    def _get_or_none(self, manager: Any, ident: Any, **kwargs: Any) -> Json | None:
        try:
            return dict(manager.get(ident, **kwargs).attributes)
        except glexc.GitlabGetError as exc:
            if exc.response_code == 404:
                return None
            raise

    # -- identity --------------------------------------------------------

    def whoami(self) -> Json:
        with self.errors("checking GITLAB_TOKEN"):
            self._gl.auth()
            assert self._gl.user is not None
            return dict(self._gl.user.attributes)

    def server_time(self) -> dt.datetime:
        """GitLab's "now" (UTC), from the ``Date`` of an answer to ``GET /user``.

        Ages and expiries are judged by GitLab's clock, as GitLab judges
        them, not by this machine's; without a usable ``Date`` the local
        clock stands in.
        """
        with self.errors("reading GitLab's clock"):
            response = self._gl.http_request("get", "/user")
        try:
            return parsedate_to_datetime(response.headers["Date"]).astimezone(dt.UTC)
        except (KeyError, TypeError, ValueError):
            log.debug("GitLab sent no usable Date header; using the local clock")
            return dt.datetime.now(dt.UTC)

    def operator_scopes(self) -> list[str] | None:
        """The scopes of GITLAB_TOKEN itself; None when GitLab cannot say
        (a token kind without a self look-up)."""
        with self.errors("checking GITLAB_TOKEN"):
            try:
                data = self._gl.http_get("/personal_access_tokens/self")
            except glexc.GitlabHttpError as exc:
                if exc.response_code == 404:
                    return None
                raise
        assert isinstance(data, dict)
        return [str(scope) for scope in data.get("scopes") or []]

    def token_self(self, token: Secret) -> Json | None:
        """What GitLab says of ``token`` itself; None when it does not work."""
        client = self._client(token)
        try:
            data = client.http_get("/personal_access_tokens/self")
        except glexc.GitlabAuthenticationError:
            return None
        except glexc.GitlabError as exc:
            raise self._http_error("looking up a token", exc, "the token") from None
        except requests.RequestException as exc:
            raise transport_error(SYSTEM, self.url, "gitlab", exc) from None
        assert isinstance(data, dict)
        return data

    def find_user(self, username: str) -> Json | None:
        with self.errors(f"looking up user {username}"):
            users = self._gl.users.list(username=username, get_all=True)
        for user in users:
            if user.attributes.get("username") == username:
                return dict(user.attributes)
        return None

    # -- groups and members ----------------------------------------------

    def find_group(self, full_path: str) -> Json | None:
        with self.errors(f"looking up group {full_path}"):
            return self._get_or_none(self._gl.groups, full_path)

    def list_top_level_groups(self) -> list[Json]:
        """The top-level groups GITLAB_TOKEN's user can see, by full path."""
        with self.errors("listing top-level groups"):
            groups = self._gl.groups.list(top_level_only=True, get_all=True)
        found = [dict(group.attributes) for group in groups]
        return sorted(found, key=lambda group: str(group["full_path"]))

    def create_group(self, fields: Json) -> Json:
        with self.errors(f"creating group {fields.get('path')}"):
            return dict(self._gl.groups.create(fields).attributes)

    def update_group(self, group_id: int, fields: Json) -> None:
        with self.errors(f"updating group {group_id}"):
            self._gl.http_put(f"/groups/{group_id}", post_data=fields)

    def delete_group(self, group_id: int) -> None:
        """Delete the group; GitLab may only mark it for deletion (the path
        stays taken until it is removed, doc/api/groups.md)."""
        with self.errors(f"deleting group {group_id}"):
            self._gl.groups.delete(group_id)

    def group_projects(self, group_id: int, archived: bool | None = None) -> list[Json]:
        """The projects of the group and its subgroups (``archived``: only
        those archived, or not archived; None: all)."""
        params: Json = {"include_subgroups": True}
        if archived is not None:
            params["archived"] = archived
        with self.errors(f"listing projects of group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            projects = group.projects.list(get_all=True, **params)
        return [dict(project.attributes) for project in projects]

    def archive_project(self, project_id: int) -> None:
        with self.errors(f"archiving project {project_id}"):
            self._gl.projects.get(project_id, lazy=True).archive()

    def list_members(self, group_id: int) -> list[Json]:
        with self.errors(f"listing members of group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            return [dict(m.attributes) for m in group.members.list(get_all=True)]

    def add_member(self, group_id: int, user_id: int, access_level: int) -> None:
        with self.errors(f"adding user {user_id} to group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            group.members.create({"user_id": user_id, "access_level": access_level})

    def update_member(self, group_id: int, user_id: int, access_level: int) -> None:
        with self.errors(f"changing user {user_id}'s access in group {group_id}"):
            self._gl.http_put(
                f"/groups/{group_id}/members/{user_id}",
                post_data={"access_level": access_level},
            )

    # -- variables -------------------------------------------------------

    def _variables(self, owner: str, ident: int | str) -> Any:
        if owner == "group":
            return self._gl.groups.get(ident, lazy=True).variables
        return self._gl.projects.get(ident, lazy=True).variables

    def get_variable(self, owner: str, ident: int | str, key: str) -> Json | None:
        with self.errors(f"reading variable {key} of {owner} {ident}"):
            return self._get_or_none(self._variables(owner, ident), key)

    def list_variables(self, owner: str, ident: int | str) -> list[Json]:
        with self.errors(f"listing variables of {owner} {ident}"):
            manager = self._variables(owner, ident)
            return [dict(v.attributes) for v in manager.list(get_all=True)]

    def create_variable(self, owner: str, ident: int | str, fields: Json) -> None:
        with self.errors(f"creating variable {fields['key']} of {owner} {ident}"):
            self._variables(owner, ident).create(_reveal(fields))

    def update_variable(self, owner: str, ident: int | str, fields: Json) -> None:
        key = fields["key"]
        with self.errors(f"updating variable {key} of {owner} {ident}"):
            self._variables(owner, ident).update(key, _reveal(fields))

    def delete_variable(self, owner: str, ident: int | str, key: str) -> None:
        with self.errors(f"deleting variable {key} of {owner} {ident}"):
            self._variables(owner, ident).delete(key)

    # -- repository ------------------------------------------------------

    def find_project(self, path: str) -> Json | None:
        with self.errors(f"looking up project {path}"):
            return self._get_or_none(self._gl.projects, path)

    def read_file(self, project: str, path: str, ref: str) -> RepoFile | None:
        with self.errors(f"reading {path} in {project}"):
            files = self._gl.projects.get(project, lazy=True).files
            data = self._get_or_none(files, path, ref=ref)
        if data is None:
            return None
        raw = base64.b64decode(data["content"])
        return RepoFile(
            path=path,
            content=raw.decode("utf-8"),
            sha256=data.get("content_sha256") or hashlib.sha256(raw).hexdigest(),
            last_commit_id=data["last_commit_id"],
        )

    def commit(
        self, project: str, branch: str, message: str, actions: list[Json]
    ) -> str:
        """Commit ``actions`` atomically; the new commit's id."""
        with self.errors(f"committing to {project}@{branch}"):
            commits = self._gl.projects.get(project, lazy=True).commits
            created = commits.create(
                {"branch": branch, "commit_message": message, "actions": actions}
            )
        return str(created.attributes["id"])

    def lint(self, project: str, content: str, ref: str) -> Json:
        with self.errors(f"linting the pipeline of {project}"):
            data = self._gl.http_post(
                f"/projects/{_encode(project)}/ci/lint",
                post_data={"content": content, "dry_run": False, "ref": ref},
            )
        assert isinstance(data, dict)
        return data

    # -- runners ---------------------------------------------------------

    def group_runners(self, group_id: int) -> list[Json]:
        """Runners that belong to the group itself (not inherited ones)."""
        with self.errors(f"listing runners of group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            runners = group.runners.list(type="group_type", get_all=True)
            details = [self._gl.runners.get(r.id) for r in runners]
        return [
            dict(d.attributes)
            for d in details
            if any(g.get("id") == group_id for g in d.attributes.get("groups", []))
        ]

    def create_runner(self, fields: Json) -> tuple[Json, Secret]:
        with self.errors(f"creating a runner for group {fields.get('group_id')}"):
            data = self._gl.http_post("/user/runners", post_data=fields)
        assert isinstance(data, dict)
        token = Secret(str(data.pop("token")))
        return data, token

    def update_runner(self, runner_id: int, fields: Json) -> None:
        with self.errors(f"updating runner {runner_id}"):
            self._gl.http_put(f"/runners/{runner_id}", post_data=fields)

    def delete_runner(self, runner_id: int) -> None:
        with self.errors(f"deleting runner {runner_id}"):
            self._gl.runners.delete(runner_id)

    def runners_tagged(self, tag: str) -> list[Json]:
        """Every runner of the instance that carries ``tag``, with its details
        (``groups``, flags); needs an administrator's GITLAB_TOKEN."""
        with self.errors(f"listing runners tagged {tag}"):
            listed = self._gl.runners_all.list(tag_list=[tag], get_all=True)
            details = [self._gl.runners.get(r.id) for r in listed]
        return [dict(d.attributes) for d in details]

    def reset_runner_token(self, runner_id: int) -> Secret:
        with self.errors(f"resetting the token of runner {runner_id}"):
            data = self._gl.http_post(
                f"/runners/{runner_id}/reset_authentication_token"
            )
        assert isinstance(data, dict)
        return Secret(str(data["token"]))

    # -- labels ----------------------------------------------------------

    def group_labels(self, group_id: int | str, own_only: bool = True) -> list[Json]:
        with self.errors(f"listing labels of group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            labels = group.labels.list(
                get_all=True, include_ancestor_groups=not own_only
            )
        return [dict(label.attributes) for label in labels]

    def create_label(self, group_id: int, fields: Json) -> None:
        with self.errors(f"creating label {fields['name']!r} in group {group_id}"):
            self._gl.groups.get(group_id, lazy=True).labels.create(fields)

    def update_label(self, group_id: int, name: str, fields: Json) -> None:
        with self.errors(f"updating label {name!r} in group {group_id}"):
            self._gl.groups.get(group_id, lazy=True).labels.update(name, fields)

    def iter_labels(
        self, group: int | str, *, own_only: bool = True, with_counts: bool = False
    ) -> Iterator[Json]:
        """The group's labels, fetched a page (``per_page``) at a time.

        ``own_only`` leaves out labels inherited from ancestor groups;
        ``with_counts`` adds the issue and merge request counts.
        """
        params: Json = {"include_ancestor_groups": not own_only}
        if with_counts:
            params["with_counts"] = True
        with self.errors(f"listing labels of group {group}"):
            labels = self._gl.groups.get(group, lazy=True).labels
            for label in labels.list(iterator=True, **params):
                yield dict(label.attributes)

    def create_group_label(self, group: int | str, fields: Json) -> Json:
        with self.errors(f"creating label {fields['name']!r} in group {group}"):
            labels = self._gl.groups.get(group, lazy=True).labels
            return dict(labels.create(fields).attributes)

    def update_group_label(self, group: int | str, label_id: int, fields: Json) -> None:
        """Change a label of the group, found by id (titles need no encoding)."""
        with self.errors(f"updating label {label_id} in group {group}"):
            labels = self._gl.groups.get(group, lazy=True).labels
            self._gl.http_put(f"{labels.path}/{label_id}", post_data=fields)

    def delete_group_label(self, group: int | str, label_id: int) -> None:
        with self.errors(f"deleting label {label_id} in group {group}"):
            self._gl.groups.get(group, lazy=True).labels.delete(label_id)

    def top_level_groups(self) -> list[Json]:
        """Every top-level group the token can see."""
        with self.errors("listing top-level groups"):
            groups = self._gl.groups.list(top_level_only=True, iterator=True)
            return [dict(group.attributes) for group in groups]

    # -- group access tokens ---------------------------------------------

    def group_tokens(self, group_id: int) -> list[Json]:
        with self.errors(f"listing access tokens of group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            tokens = group.access_tokens.list(get_all=True)
        return [dict(t.attributes) for t in tokens]

    def create_group_token(self, group_id: int, fields: Json) -> tuple[Json, Secret]:
        with self.errors(f"creating an access token for group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            data = dict(group.access_tokens.create(fields).attributes)
        return data, Secret(str(data.pop("token")))

    def rotate_group_token(
        self, group_id: int, token_id: int, expires_at: str
    ) -> tuple[Json, Secret]:
        with self.errors(f"rotating access token {token_id} of group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            data = group.access_tokens.rotate(token_id, expires_at=expires_at)
        data = dict(data)
        return data, Secret(str(data.pop("token")))

    def revoke_group_token(self, group_id: int, token_id: int) -> None:
        with self.errors(f"revoking access token {token_id} of group {group_id}"):
            group = self._gl.groups.get(group_id, lazy=True)
            group.access_tokens.delete(token_id)


def _encode(path: str) -> str:
    return path.replace("/", "%2F")


def _reveal(fields: Json) -> Json:
    return {k: v.reveal() if isinstance(v, Secret) else v for k, v in fields.items()}


def _server_message(exc: glexc.GitlabError) -> str:
    """GitLab's own words, and the missing scope when it names one."""
    body = _json_body(exc)
    if body.get("error") == "insufficient_scope":
        scope = body.get("scope")
        return f"the token lacks the {scope!r} scope" if scope else "insufficient scope"
    message = exc.error_message
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message or "")


def _json_body(exc: glexc.GitlabError) -> dict[str, Any]:
    try:
        body = json.loads(exc.response_body or b"")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class _Client(gitlab.Gitlab):
    """python-gitlab with the site's bound on retries for every request.

    python-gitlab takes ``max_retries`` per request only (default 10); this
    sets it once, so 429 and 5xx answers are retried a bounded number of
    times whatever the caller, and keeps POSTs from being sent twice.
    """

    max_retries = 5

    def http_request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("max_retries", self.max_retries)
        verb = str(args[0] if args else kwargs.get("verb", "")).lower()
        if verb == "post":
            # A POST whose answer was lost may have been carried out (a token
            # rotated, a commit made): sending it again would act twice or
            # fail confusingly. Only 429s, which GitLab did not act on, are
            # retried; the next run finishes what a failed one left.
            kwargs.setdefault("retry_transient_errors", False)
        return super().http_request(*args, **kwargs)
