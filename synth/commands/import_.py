"""`synth import IN... --kind KIND --out DIR`: bring existing records into a synth dataset directory.

Records that already follow a synth schema (or any JSON objects, with `--kind generic`) are validated,
given ids when they have none, sharded and written with a manifest, so every other command can consume
them. It is also the smallest complete example of a command on the engine (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth import schemas
from synth.cli_common import (
    ConfigFile,
    Executor,
    Force,
    Format,
    JsonOut,
    Out,
    RayAddress,
    SlurmPartition,
    SlurmTime,
    Tasks,
    Workers,
    check_format,
    runtime,
    shaping_config,
    synth_command,
)
from synth.steps import RecordStep

ChunkSize = Annotated[int, typer.Option("--chunk-size", min=1, help="Records per commit (the resume unit).")]


class EnsureId(RecordStep):
    """Give id-less records a content-derived id (stable across runs, so dedup and resume can cite it)."""

    name = "ensure id"

    def process(self, record: dict) -> dict:
        if record.get("id") not in (None, ""):
            return record if isinstance(record["id"], str) else {**record, "id": str(record["id"])}
        from synth.manifest import canonical, hash_bytes

        return {"id": hash_bytes(canonical(record))[:16], **record}


def register(app: typer.Typer) -> None:
    @app.command("import")
    @synth_command
    def import_(
        ctx: typer.Context,
        inputs: Annotated[list[Path], typer.Argument(help="JSONL/JSON/Parquet files, folders, HF or synth dataset dirs.")],
        out: Out,
        kind: Annotated[str, typer.Option(help=f"Record kind: {', '.join(schemas.kinds())} or generic.")] = "generic",
        fmt: Format = "parquet",
        source_format: Annotated[str, typer.Option("--from", help="With --kind trajectory: convert from "
                                                   "openai | hermes | mcp_xml | search_r1 | auto (none: records "
                                                   "already follow the schema).")] = "none",
        chunk_size: ChunkSize = 1000,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Validate records against a schema and write them as a synth dataset directory."""
        params = dict(locals())  # first statement: exactly the (config-merged) flags
        from synth.engine import Job, known_kind, run_job
        from synth.errors import UserError

        check_format(fmt)
        sources, steps, input_kind = [str(p) for p in inputs], [EnsureId()], None if kind == schemas.GENERIC else kind
        if source_format != "none":  # a conversion step (pipelines/trajectories/importer.py) before the ids
            from synth.pipelines.trajectories.importer import SOURCES, ConvertTrajectory, stage_inputs

            if kind != "trajectory" or source_format not in SOURCES:
                raise UserError(f"--from {source_format}: needs --kind trajectory and one of {', '.join(SOURCES)}")
            from synth.dataset import require_new_or_dataset

            require_new_or_dataset(Path(out))  # before staging writes under OUT/.synth
            sources, input_kind = stage_inputs(sources, Path(out) / ".synth" / "staged"), None
            steps = [ConvertTrajectory(source_format), *steps]
        job = Job(command="import", out=out, kind=known_kind(kind), config=shaping_config(params),
                  inputs=sources, input_kind=input_kind, steps=steps, chunk_size=chunk_size, fmt=fmt)
        summary = run_job(job, runtime(params))
        counts = summary.get("counts") or {} if isinstance(summary, dict) else {}
        if counts.get("input") and not counts.get("output") and counts.get("rejected"):
            reasons = ", ".join(f"{k}={v}" for k, v in sorted((counts.get("rejected_by_reason") or {}).items()))
            raise UserError(f"every input record was rejected ({reasons}); see {Path(out) / 'rejects'}")
        return summary
