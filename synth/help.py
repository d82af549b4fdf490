"""`synth --help` that shows the flow: commands in pipeline order under section titles, an epilogue saying how
they chain, `--version`, and option sections (`rich_help_panel`) for long commands like `train`.

Help is click's plain formatter (typer's `rich_markup_mode=None`): it wraps to the terminal, at most 80
columns, and never cuts a flag name, where typer's rich tables squeezed six columns into 80 and cut both.
"""

from __future__ import annotations

import typer
from typer.core import TyperCommand, TyperGroup

# Section title -> top-level commands, in the order data flows through them.
PIPELINE = (
    ("Sources", ("corpus", "import", "teacher")),
    ("Generate and supervise", ("generate", "label", "judge", "reward")),
    ("Curate", ("filter", "validate", "inspect", "export")),
    ("Train and evaluate", ("train", "eval", "serve")),
    ("Automate", ("run",)),
)
FLOW = ("How they chain: corpus build -> generate deepsearch -> generate trajectories -> label turns -> filter "
        "-> export trajectories -> train -> eval deepsearch -> generate deepsearch --from-failures. Each command "
        "reads the --out of the one before; `synth run PIPELINE.yaml` runs such a chain, cached per stage.")


def _rows(group: TyperGroup, ctx, names, width: int) -> list[tuple[str, str]]:
    rows = []
    for name in names:
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            rows.append((name, command.get_short_help_str(width)))
    return rows


class PipelineGroup(TyperGroup):
    """The root group: commands listed under PIPELINE's titles (anything unlisted under 'Other')."""

    def list_commands(self, ctx) -> list[str]:
        ordered = [name for _, names in PIPELINE for name in names if name in self.commands]
        return ordered + [name for name in self.commands if name not in ordered]

    def format_commands(self, ctx, formatter) -> None:
        listed = {name for _, names in PIPELINE for name in names}
        sections = [*PIPELINE, ("Other", tuple(n for n in self.commands if n not in listed))]
        width = formatter.width - 6 - max(len(n) for n in self.commands)
        for title, names in sections:
            rows = _rows(self, ctx, names, width)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class SectionedCommand(TyperCommand):
    """A command whose options are printed in sections named by each option's `rich_help_panel`."""

    def format_options(self, ctx, formatter) -> None:
        sections: dict[str, list] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                title = "Arguments" if param.param_type_name == "argument" else \
                    getattr(param, "rich_help_panel", None) or "Options"
                sections.setdefault(title, []).append(record)
        for title, records in sections.items():
            with formatter.section(title):
                formatter.write_dl(records)


def _print_version(value: bool) -> None:
    if value:
        from synth.manifest import synth_version

        typer.echo(f"synth {synth_version()}")
        raise typer.Exit()


def add_version_option(app: typer.Typer) -> None:
    """`synth --version` (eager: it answers before any command is parsed)."""

    @app.callback()
    def root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                          help="Print the synth version and exit.")) -> None:
        pass
