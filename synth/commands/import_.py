"""`synth import IN... --kind KIND --out DIR`: bring existing records into a synth dataset directory.

Records that already follow a synth schema (or any JSON objects, with `--kind generic`) are validated,
given ids when they have none, sharded and written with a manifest, so every other command can consume
them. It is also the smallest complete example of a command on the engine (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth import schemas
from synth.cli_common import command, runtime
from synth.options import Formatted, RunOptions, chunk_size, flag, options, shaping
from synth.steps import RecordStep


@options
class ImportOptions(Formatted, RunOptions):
    inputs: list[Path] = flag(help="JSONL/JSON/Parquet files, folders, HF or synth dataset dirs.", argument=True)
    kind: str = flag("generic", f"Record kind: {', '.join(schemas.kinds())} or generic.")
    source_format: str = flag("none", "With --kind trajectory: convert from openai | hermes | mcp_xml | search_r1 | "
                              "auto (none: records already follow the schema).", cli=("--from",))
    chunk_size: int = chunk_size(1000, "Records")


class EnsureId(RecordStep):
    """Give id-less records a content-derived id (stable across runs, so dedup and resume can cite it)."""

    name = "ensure id"

    def process(self, record: dict) -> dict:
        if record.get("id") not in (None, ""):
            return record if isinstance(record["id"], str) else {**record, "id": str(record["id"])}
        from synth.manifest import canonical, hash_bytes

        return {"id": hash_bytes(canonical(record))[:16], **record}


def run(opts: ImportOptions) -> dict:
    """Validate records against a schema and write them as a synth dataset directory."""
    from synth.engine import Job, known_kind, run_job
    from synth.errors import UserError

    kind, out = opts.kind, opts.out
    sources, steps, input_kind = [str(p) for p in opts.inputs], [EnsureId()], None if kind == schemas.GENERIC else kind
    if opts.source_format != "none":  # a conversion step (pipelines/trajectories/importer.py) before the ids
        from synth.pipelines.trajectories.importer import SOURCES, ConvertTrajectory, stage_inputs

        if kind != "trajectory" or opts.source_format not in SOURCES:
            raise UserError(f"--from {opts.source_format}: needs --kind trajectory and one of {', '.join(SOURCES)}")
        from synth.dataset import require_new_or_dataset

        require_new_or_dataset(out)  # before staging writes under OUT/.synth
        sources, input_kind = stage_inputs(sources, out / ".synth" / "staged"), None
        steps = [ConvertTrajectory(opts.source_format), *steps]
    job = Job(command="import", out=out, kind=known_kind(kind), config=shaping(opts),
              inputs=sources, input_kind=input_kind, steps=steps, chunk_size=opts.chunk_size, fmt=opts.fmt)
    summary = run_job(job, runtime(opts))
    counts = summary.get("counts") or {} if isinstance(summary, dict) else {}
    if counts.get("input") and not counts.get("output") and counts.get("rejected"):
        reasons = ", ".join(f"{k}={v}" for k, v in sorted((counts.get("rejected_by_reason") or {}).items()))
        raise UserError(f"every input record was rejected ({reasons}); see {out / 'rejects'}")
    return summary


def register(app: typer.Typer) -> None:
    command(app, "import", ImportOptions, run)
