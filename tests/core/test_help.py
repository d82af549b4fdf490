"""Help that shows the flow (issue 24): commands in pipeline order with the chain as an epilogue, --version,
`train --help` in sections by mode with defaults, and every help within 80 columns with no flag name cut."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import synth.cli
from synth.run.argv import available_commands, find

RUNNER = CliRunner()


def _help(*words: str) -> str:
    res = RUNNER.invoke(synth.cli.app, [*words, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert res.exit_code == 0, res.output
    return res.output


def test_top_level_help_lists_commands_in_pipeline_order_and_how_they_chain():
    text = _help()
    titles = re.findall(r"^(\S[^:\n]*):$", text, flags=re.MULTILINE)
    assert titles == ["Options", "Sources", "Generate and supervise", "Curate", "Train and evaluate", "Automate"]
    assert [text.index(f"\n  {c} ") for c in ("corpus", "generate", "label", "filter", "train", "eval")] == sorted(
        text.index(f"\n  {c} ") for c in ("corpus", "generate", "label", "filter", "train", "eval"))
    assert "How they chain: corpus build -> generate deepsearch" in " ".join(text.split())


def test_version():
    from synth.manifest import synth_version

    res = RUNNER.invoke(synth.cli.app, ["--version"])
    assert res.exit_code == 0 and res.output == f"synth {synth_version()}\n"


def test_train_help_is_grouped_by_mode_with_defaults_and_required_flags():
    text = " ".join(_help("train").split())
    sections = ["Data and model (every mode):", "Optimization:", "Evaluation, checkpoints and progress:",
                "Speed and memory:", "DPO and reward model (--mode dpo | rm):", "GRPO (--mode grpo):",
                "GRPO search agents (--mode grpo --task search):"]
    assert [text.index(s) for s in sections] == sorted(text.index(s) for s in sections)
    dpo, grpo = text.index(sections[4]), text.index(sections[5])
    assert grpo < text.index("--group-size") and dpo < text.index("--dpo-beta") < grpo
    assert "--seq-len <int> Tokens per packed row; longer samples are rejected (too_long). [default: 8192]" in text
    assert "checkpoints/. [required]" in text and "[default: --resume]" in text


@pytest.mark.parametrize("words", [[], *[c.split() for c in available_commands()],
                                   *[[g] for g in ("generate", "label", "judge", "eval", "corpus", "export")]])
def test_every_help_fits_80_columns_and_names_every_flag_whole(words):
    text = _help(*words)
    assert max(len(line) for line in text.splitlines()) <= 80
    command = find(words) if words else None
    for param in getattr(command, "params", []):
        for opt in [*param.opts, *param.secondary_opts]:
            if opt.startswith("--") and not param.hidden:
                assert re.search(rf"{re.escape(opt)}(?![\w-])", text), f"{opt} missing or cut in {words} --help"
