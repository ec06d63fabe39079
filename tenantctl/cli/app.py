"""The object every command receives: settings, console, and the clients."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click

from tenantctl.config import (
    Credentials,
    SiteConfig,
    config_path,
    load_config,
    load_credentials,
)
from tenantctl.console import Console
from tenantctl.errors import TenantctlError
from tenantctl.secrets import scrub


@dataclass
class App:
    """Carried in ``click.Context.obj`` from the root group to each command."""

    config_flag: str | None = None
    verbosity: int = 0
    debug: bool = False
    console: Console = field(default_factory=Console)

    @property
    def config_path(self) -> Path:
        return config_path(self.config_flag)

    def config(self) -> SiteConfig:
        return load_config(self.config_path)

    def credentials(self, config: SiteConfig) -> Credentials:
        return load_credentials(config)


pass_app = click.make_pass_decorator(App)


@contextlib.contextmanager
def error_handler(ctx: click.Context) -> Iterator[None]:
    """Expected errors: one message and their exit code. Ctrl-C: 130.
    Anything else is a bug: a short note, or the traceback with --debug."""
    try:
        yield
    except TenantctlError as exc:
        app = _app(ctx)
        if app.debug:
            sys.stderr.write(scrub(traceback.format_exc()))
        app.console.error(str(exc))
        app.console.document(
            {"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _app(ctx).console.error("interrupted")
        sys.exit(130)
    except click.exceptions.Exit:
        raise
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        app = _app(ctx)
        if app.debug:
            sys.stderr.write(scrub(traceback.format_exc()))
        app.console.error(
            f"tenantctl failed unexpectedly: {type(exc).__name__}: {exc}\n"
            "  run again with --debug for the traceback, and report it"
        )
        sys.exit(1)


def _app(ctx: click.Context) -> App:
    return ctx.obj if isinstance(ctx.obj, App) else App()
