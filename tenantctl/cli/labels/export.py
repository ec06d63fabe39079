"""``tenantctl labels export``: a group's labels as a template file."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from tenantctl import labels
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.labels.selection import connector
from tenantctl.cli.options import output_option


@click.command()
@click.argument("group")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the template here [default: print it on stdout].",
)
@click.option(
    "--include-inherited",
    is_flag=True,
    help="Also take the labels GROUP inherits from its parent groups.",
)
@output_option
@pass_app
def export(
    app: App, group: str, path: Path | None, include_inherited: bool, output: str
) -> None:
    """Write a group's labels as a template for `labels diff|sync --from-file`.

    The template is YAML: the source group, its labels (name, color as
    GitLab holds it, description) and an empty `renames:` list to fill in
    with `{from: OLD, to: NEW}` entries. Keep it in the repository to
    review label changes like code.

    \b
    Examples:
      tenantctl labels export administrators --file playbooks/labels.yml
      tenantctl labels sync --from-file playbooks/labels.yml --all-tenants
    """
    app.console.output = "json" if output == "json" else "text"
    gitlab = connector(app)()
    source = labels.group_source(gitlab, group, include_inherited=include_inherited)
    text = labels.template_text(group, source.labels.values())

    if path is not None:
        path.write_text(text, encoding="utf-8")
        app.console.info(f"wrote {len(source.labels)} labels of {group} to {path}")
    app.console.document(
        {
            "source": group,
            "file": None if path is None else str(path),
            "labels": [
                label.fields() | {"color": label.color}
                for label in source.labels.values()
            ],
        }
    )
    if path is None:
        app.console.result(Text(text, end=""))
