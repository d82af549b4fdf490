"""synth from Python, as a notebook or an orchestrator task would call it: no shell, no argv.

    python examples/notebook_api.py TRAJECTORIES.jsonl [WORKDIR]

Three steps of the pipeline on real agent trajectories (WebDancer, Hermes `<tool_call>` format):
import them into a synth dataset, label every assistant turn with the rule judge, then drop duplicates.
Every `api.*` function is one `synth` command: the same options (flag names with underscores, `--format`
is `fmt`, `--json` is `json_out`), the same resume, caching, locks and config hash, so this script and

    synth import TRAJECTORIES.jsonl --kind trajectory --from auto --out imported
    synth label turns imported --out labelled
    synth filter labelled --dedup exact --shards 2 --out filtered

write the same directories (tests/core/test_api.py checks that), and re-running either one resumes.
A bad option raises `synth.api.UserError` (the CLI's exit 2) with the CLI's one-line message.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from synth import api


def pipeline(source: Path) -> api.Dataset:
    imported = api.import_records([source], out="imported", kind="trajectory", source_format="auto")
    labelled = api.label_turns([imported.path], out="labelled")  # rule judge: no teacher needed
    kept = api.filter_records([labelled.path], out="filtered", dedup="exact", shards=2, json_out=True)
    counts = kept.manifest["counts"]
    print(f"{imported.manifest['counts']['output']} imported, {counts['output']} kept, "
          f"rejected: {counts['rejected_by_reason']}")
    return kept


if __name__ == "__main__":
    source = Path(sys.argv[1]).resolve()
    os.chdir(Path(sys.argv[2]) if len(sys.argv) > 2 else Path.cwd())  # the outputs land under WORKDIR
    pipeline(source)
