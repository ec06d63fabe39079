"""All of tenantctl's output goes through here.

Results go to stdout, progress and logs to stderr. ``--output json`` prints
one JSON document on stdout and nothing else there. Colour is off for
``NO_COLOR`` and for anything that is not a terminal, and markup is never
interpreted, so names from users and servers print literally.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Literal

from rich.console import Console as RichConsole
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from tenantctl.secrets import RedactingFilter, scrub

Output = Literal["text", "json"]


class Console:
    """stdout for results, stderr for everything else."""

    def __init__(self, output: Output = "text") -> None:
        self.output = output
        self.documented = False
        no_color = bool(os.environ.get("NO_COLOR"))
        self.out = RichConsole(
            file=sys.stdout,
            no_color=no_color,
            markup=False,
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )
        self.err = RichConsole(
            file=sys.stderr,
            no_color=no_color,
            markup=False,
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty() and self.err.is_terminal

    def result(self, renderable: Any) -> None:
        """A piece of the command's result, for people (text mode only)."""
        if self.output == "text":
            self.out.print(renderable)

    def document(self, data: Any) -> None:
        """The command's result as one JSON document (json mode only); a
        second one is never written, so stdout stays one document."""
        if self.output == "json" and not self.documented:
            self.documented = True
            self.out.file.write(scrub(json.dumps(data, indent=2, default=str)))
            self.out.file.write("\n")
            self.out.file.flush()

    def info(self, message: str, style: str | None = None) -> None:
        self.err.print(Text(scrub(message), style=style or ""))

    def warn(self, message: str) -> None:
        self.err.print(Text("warning: " + scrub(message), style="yellow"))

    def error(self, message: str) -> None:
        self.err.print(Text("error: " + scrub(message), style="bold red"))

    def table(self, title: str | None = None) -> Table:
        return Table(title=title, show_edge=False, header_style="bold")


def setup_logging(
    console: Console, verbosity: int, log_file: str | None = None
) -> None:
    """Log at a level set by ``-v`` to stderr, or to ``log_file``; every
    record is scrubbed of secrets first."""
    level = logging.WARNING
    if verbosity == 1:
        level = logging.INFO
    elif verbosity >= 2:
        level = logging.DEBUG
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    else:
        handler = RichHandler(
            console=console.err,
            show_time=False,
            show_path=False,
            markup=False,
            rich_tracebacks=False,
        )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # urllib3 warns of each retry in its own words; tenantctl's own lines
    # say what happens, so its voice is kept for -vv.
    logging.getLogger("urllib3").setLevel(
        logging.DEBUG if verbosity >= 3 else logging.ERROR
    )
