"""The errors tenantctl raises, each with a message a person can act on."""

from __future__ import annotations


class TenantctlError(Exception):
    """An expected failure: printed as one message, never as a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class InputError(TenantctlError):
    """Bad input from the user: a playbook, a config file, a flag."""

    exit_code = 2


class EditError(InputError):
    """A file we were asked to edit does not have the shape we expect."""


class CredentialError(InputError):
    """A credential from the environment that a server refused."""


class RemoteError(TenantctlError):
    """A remote system (GitLab, Keycloak, Vault) refused or failed a request."""

    def __init__(
        self,
        system: str,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{system}: {message}", hint=hint)
        self.system = system
        self.status = status
        self.url = url
        if status == 401:
            # A refused credential is bad input from the environment.
            self.exit_code = InputError.exit_code


class DriftFound(TenantctlError):
    """A check-only run found a difference."""

    exit_code = 3
