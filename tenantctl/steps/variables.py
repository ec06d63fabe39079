"""CI/CD variables, compared and written the same way by every step."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tenantctl.errors import InputError
from tenantctl.secrets import Secret
from tenantctl.steps.base import Action, Change, Context

Value = str | Secret | Callable[[], Secret]

# GitLab's masked-value rules (app/models/concerns/ci/maskable.rb): at least
# 8 characters, one line, and with raw=false only these characters.
_MASKABLE = re.compile(r"^[a-zA-Z0-9_+=/@:.~-]{8,}$")


def check_maskable(key: str, value: str) -> None:
    """InputError saying why GitLab would refuse to mask ``value``."""
    if len(value) < 8:
        raise InputError(f"{key}: a masked value needs at least 8 characters")
    if not _MASKABLE.match(value):
        raise InputError(
            f"{key}: a masked value may hold only letters, digits and "
            "_ + = / @ : . ~ - (no spaces or newlines)"
        )


class Variable:
    """One CI/CD variable of the tenant's group or of a named project."""

    def __init__(
        self,
        ctx: Context,
        key: str,
        *,
        masked: bool,
        protected: bool,
        project: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.key = key
        self.masked = masked
        self.protected = protected
        self.project = project
        self.owner = "project" if project else "group"
        self.where = project or ctx.tenant

    def _ident(self) -> int | str:
        if self.project is not None:
            return self.project
        assert self.ctx.group_id is not None
        return self.ctx.group_id

    def current(self) -> dict[str, Any] | None:
        if self.project is None and self.ctx.group_id is None:
            return None
        return self.ctx.gitlab.get_variable(self.owner, self._ident(), self.key)

    def is_current(self, current: dict[str, Any] | None, value: str) -> bool:
        return (
            current is not None
            and current.get("value") == value
            and current.get("masked") == self.masked
            and current.get("protected") == self.protected
        )

    def write(self, value: str | Secret) -> None:
        """Make the variable hold ``value``, creating it if need be."""
        plain = value.reveal() if isinstance(value, Secret) else value
        if self.masked:
            check_maskable(self.key, plain)
        current = self.current()
        if self.is_current(current, plain):
            return
        fields = {
            "key": self.key,
            "value": value,
            "masked": self.masked,
            "protected": self.protected,
            "raw": True,
        }
        if current is None:
            self.ctx.gitlab.create_variable(self.owner, self._ident(), fields)
        else:
            self.ctx.gitlab.update_variable(self.owner, self._ident(), fields)

    def plan(self, value: str | Secret) -> Change | None:
        """The change that makes the variable hold ``value``, or None."""
        plain = value.reveal() if isinstance(value, Secret) else value
        if self.masked:
            check_maskable(self.key, plain)
        current = self.current()
        if self.is_current(current, plain):
            return None
        return self.change(
            "create" if current is None else "update",
            value,
            old=None if current is None else _shown(current, self.masked),
        )

    def change(self, action: Action, value: Value, old: Any = None) -> Change:
        """A change that writes ``value`` (or what it returns) when it runs."""
        shown = Secret("pending") if self.masked or callable(value) else value

        def run() -> None:
            self.write(value() if callable(value) else value)

        return Change(
            action, "variable", f"{self.where}:{self.key}", old=old, new=shown, run=run
        )


def _shown(current: dict[str, Any], masked: bool) -> Any:
    value = current.get("value")
    return Secret(str(value)) if masked or current.get("masked") else value
