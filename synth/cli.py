"""`synth` command line: wiring only. Each command lives in its own module with a `register(app)`.

Keep this module and everything it imports at module level free of heavy imports (torch, vllm, faiss,
datasets, sentence-transformers): `synth --help` must stay instant. Commands import what they need
inside their function bodies. A command is registered here only once it really works.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="synth",
    help="Teacher models in, verified training data and a trained model out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Command groups (sub-apps) are created here so command modules can attach to them.
GROUPS: dict[str, typer.Typer] = {}


def group(name: str, help: str) -> typer.Typer:
    """The sub-app `synth NAME ...`, created and mounted on first use."""
    if name not in GROUPS:
        GROUPS[name] = typer.Typer(help=help, no_args_is_help=True)
        app.add_typer(GROUPS[name], name=name)
    return GROUPS[name]


def _register() -> None:
    from synth.commands import import_, validate

    for module in (import_, validate):
        module.register(app)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
