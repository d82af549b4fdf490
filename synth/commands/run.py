"""`synth run PIPELINE.yaml|toml`: run a pipeline file's stages in dependency order, with caching.

Each stage is one `synth` command (see synth/run/file.py for the file format). A stage whose
resolved command and input hashes are unchanged since its last success is reported `cached`; a stage
that failed or was killed is resumed by its own command on the next run; a changed stage re-runs, and
so does everything downstream whose input it changed (synth/run/cache.py).

Why every stage runs as a child process (`sys.executable -m synth.cli ...`) and not in-process through
the Typer app:
  - real exit codes and signals: a stage is exactly the command a user would type, so a stage that
    works in a shell works in a pipeline, exit 2 stays exit 2, and a SIGKILLed stage is a dead child,
    not a dead pipeline;
  - no state leaks between stages: commands reconfigure process-wide things (datatrove's loguru
    handlers, `ray.init`, vLLM engines and CUDA memory, torch threads, sys.exit from Typer). A process
    boundary returns all of it, above all the accelerator memory a generate stage held before train;
  - each stage gets its own process group, and whatever it leaves behind there is ended with it
    (synth/run/exec.py), which in-process execution could not promise;
  - the cost is one Python start-up plus CLI imports per stage (~1.5 s on the loaded 2-core dev box,
    bench/run_overhead.py), against stages that take minutes to hours.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command
from synth.errors import EXIT_CAPPED
from synth.options import Common, flag, options


@options
class RunPipelineOptions(Common):
    pipeline: Path = flag(help="Pipeline file (YAML or TOML) listing named stages.", argument=True)
    only: list[str] | None = flag(None, "Run just this stage (repeatable); its inputs must exist.", cli=("--only",))
    start: str | None = flag(None, "Run this stage and every stage downstream of it.", cli=("--from",))
    dry_run: bool = flag(False, "Print the resolved commands in order; run nothing.", cli=("--dry-run",),
                         runtime=True)
    workdir: Path | None = flag(None, "Where stage outputs and the run state go (overrides the file's workdir).",
                                cli=("--workdir",))


def run(opts: RunPipelineOptions) -> dict | None:
    """Run a pipeline of synth commands in dependency order; unchanged stages are cached."""
    from synth.run import argv as pa
    from synth.run.file import load, select

    pl = load(opts.pipeline, opts.workdir)
    selected = select(pl, opts.only or [], opts.start)
    outs = pa.outputs(pl)
    plans = {name: pa.plan(pl, pl.stages[name], outs) for name in pl.order}  # checks every stage first
    pa.require_available(pl.path, [plans[n] for n in pl.order])
    if opts.dry_run:
        return _dry_run(pl, plans, selected, opts.json_out)
    _require_upstream(pl, selected, outs)
    from synth.run.cache import workdir_lock

    with workdir_lock(pl.workdir):
        summary = _execute(pl, plans, selected, opts.json_out)
    if opts.json_out:
        return summary
    _print_table(summary)
    if summary["exit_code"]:
        raise typer.Exit(summary["exit_code"])
    return None


def register(app: typer.Typer) -> None:
    command(app, "run", RunPipelineOptions, run)


def _require_upstream(pl, selected: set[str], outs: dict) -> None:
    """With --only/--from, the outputs of stages left out must already exist."""
    from synth.errors import UserError

    for name in pl.order:
        if name not in selected:
            continue
        for dep in pl.stages[name].needs:
            if dep not in selected and not (outs[dep] and outs[dep].exists()):
                raise UserError(f"stage '{name}' needs the output of stage '{dep}' ({outs[dep]}), which does not "
                                "exist yet; run without --only/--from first")


STATUSES = ("ran", "cached", "capped", "failed", "skipped")
# A stage that stops the run, and what the stages after it are told.
STOP_REASON = {"failed": "stage '{stage}' failed",
               "capped": "stage '{stage}' was capped by its budget; raise the cap and re-run to resume"}


def _execute(pl, plans: dict, selected: set[str], json_mode: bool) -> dict:
    import time

    from synth.run.cache import RunState

    started = time.monotonic()
    run_state = RunState(pl.state_path)
    rows, stopped = [], None
    for index, name in enumerate(pl.order, start=1):
        plan = plans[name]
        if name not in selected:
            rows.append(_row(plan, "skipped", reason="not selected"))
        elif stopped:
            rows.append(_row(plan, "skipped", reason=STOP_REASON[stopped["status"]].format(stage=stopped["name"])))
        else:
            rows.append(_run_one(pl, plan, run_state, json_mode, f"[{index}/{len(pl.order)}]"))
            stopped = rows[-1] if rows[-1]["status"] in STOP_REASON else None
    run_state.save()
    code = stopped["exit_code"] if stopped else 0
    totals = {status: sum(r["status"] == status for r in rows) for status in STATUSES}
    return {"pipeline": str(pl.path), "workdir": str(pl.workdir), "status": stopped["status"] if stopped else "ok",
            "exit_code": code, "seconds": round(time.monotonic() - started, 3), "totals": totals, "stages": rows}


def _run_one(pl, plan, run_state, json_mode: bool, counter: str) -> dict:
    from synth.run import cache as pc
    from synth.run.exec import run_stage

    name = plan.stage.name
    key = pc.spec_key(plan)
    inputs = pc.hash_paths(pc.input_paths(pl, plan), run_state)
    record = run_state.stage(name)
    decision = pc.decide(record, key, inputs, plan, run_state)
    if decision == "cached":
        typer.echo(f"{counter} {name}: cached", err=True)
        return _row(plan, "cached", seconds=0.0)
    if decision == "fresh" and pc.clear_output(pl, record, plan):
        typer.echo(f"{counter} {name}: removed the stale output {plan.out}", err=True)
    verb = "resuming" if decision == "resume" else "running"
    typer.echo(f"{counter} {name}: {verb} {plan.shell}", err=True)
    run_state.attempt(name, key, inputs, plan.out)
    result = run_stage(plan.argv, pl.base, json_mode)
    if result.exit_code == EXIT_CAPPED:  # not a failure: the budget did its job; the command resumes it
        run_state.fail(name, result.exit_code, result.error, result.seconds, status="capped")
        typer.echo(f"{counter} {name}: capped by its budget (exit {EXIT_CAPPED}): finished work is kept; raise "
                   "--max-tokens-total/--max-cost and re-run to resume; downstream stages were not run", err=True)
        return _row(plan, "capped", seconds=result.seconds, exit_code=result.exit_code, error=result.error,
                    resumed=decision == "resume")
    if result.exit_code != 0:
        run_state.fail(name, result.exit_code, result.error, result.seconds)
        typer.echo(f"{counter} {name}: failed (exit {result.exit_code}); finished stages are kept, "
                   "re-run to resume", err=True)
        return _row(plan, "failed", seconds=result.seconds, exit_code=result.exit_code, error=result.error,
                    resumed=decision == "resume")
    after = pc.hash_paths(pc.input_paths(pl, plan), run_state)
    output = pc.path_hash(plan.out, run_state) if plan.out and plan.out.exists() else None
    run_state.finish(name, key, after, output, result.seconds)
    return _row(plan, "ran", seconds=result.seconds, exit_code=0, resumed=decision == "resume")


def _row(plan, status: str, **extra) -> dict:
    from synth.dataset import read_manifest

    manifest = read_manifest(plan.out) if plan.out and status in ("ran", "cached") else None
    row = {"name": plan.stage.name, "status": status, "command": plan.shell, "out": plan.out and str(plan.out),
           "seconds": extra.pop("seconds", None), "counts": (manifest or {}).get("counts")}
    row.update(extra)
    return row


def _dry_run(pl, plans: dict, selected: set[str], json_mode: bool):
    """The commands in order, each with what a real run would do now (nothing is written)."""
    from synth.run import cache as pc

    run_state = pc.RunState(pl.state_path)
    will_run: set[str] = set()
    rows = []
    for name in pl.order:
        plan = plans[name]
        if name not in selected:
            status = "skipped"
        elif any(dep in will_run for dep in plan.stage.needs):
            status = "will run"
        else:
            inputs = pc.hash_paths(pc.input_paths(pl, plan), run_state)
            decision = pc.decide(run_state.stage(name), pc.spec_key(plan), inputs, plan, run_state)
            status = {"cached": "cached", "resume": "will resume", "fresh": "will run"}[decision]
        if status.startswith("will"):
            will_run.add(name)
        rows.append({"name": name, "status": status, "command": plan.shell, "argv": ["synth", *plan.argv],
                     "out": plan.out and str(plan.out), "needs": plan.stage.deps})
    if json_mode:
        return {"pipeline": str(pl.path), "workdir": str(pl.workdir), "dry_run": True, "stages": rows}
    for row in rows:
        typer.echo(f"# {row['name']} ({row['status']})")
        typer.echo(row["command"])
    return None


def _print_table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"synth run {Path(summary['pipeline']).name}: {summary['status']}", title_justify="left")
    for column in ("stage", "status", "seconds", "in", "out", "rejected", "output"):
        table.add_column(column, justify="right" if column in ("seconds", "in", "out", "rejected") else "left")
    for row in summary["stages"]:
        counts = row.get("counts") or {}
        status = row["status"] + (" (resumed)" if row.get("resumed") else "")
        status += f" exit {row['exit_code']}" if row["status"] in ("failed", "capped") else ""
        table.add_row(row["name"], status, "" if row["seconds"] is None else f"{row['seconds']:.1f}",
                      *(str(counts.get(k, "")) for k in ("input", "output", "rejected")), row["out"] or "")
    Console().print(table)
