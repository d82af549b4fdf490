"""`synth serve tools --corpus CORPUS --host 127.0.0.1 --port P`: the agent tools over HTTP/JSON.

Routes and payloads: synth/env/server.py. Runs until interrupted (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth.cli_common import synth_command


def register(app: typer.Typer) -> None:
    @app.command("tools")
    @synth_command
    def tools(
        ctx: typer.Context,
        corpus: Annotated[Path, typer.Option("--corpus", help="A CORPUS directory from `synth corpus build`.")],
        host: Annotated[str, typer.Option(help="Interface to bind (keep 127.0.0.1 unless you mean it).")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free port, printed).")] = 8765,
        cache: Annotated[Path | None, typer.Option(help="SQLite file that keeps tool results across runs.")] = None,
        mode: Annotated[str | None, typer.Option(help="Default search mode: bm25 | dense | hybrid "
                                                    "(default: hybrid, or bm25 for a corpus built --no-dense).")] = None,
        python: Annotated[bool, typer.Option("--python/--no-python", help="Offer the sandboxed python tool.")] = True,
        # Named visit_teacher, not teacher: a server has no spending budget to inject (synth.teachers.flags).
        visit_teacher: Annotated[str, typer.Option("--teacher", help="openai:URL: `visit` adds the teacher's extract of the "
                                             "passages for the goal (any OpenAI-compatible endpoint, vLLM "
                                             "included; key from SYNTH_API_KEY); none: passages only.")] = "none",
        model: Annotated[str | None, typer.Option(help="Model name the teacher endpoint serves.")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="TOML or YAML file; keys are flag names.")] = None,
    ):
        """Serve search / open / visit (and python) over HTTP/JSON for external agent frameworks."""
        import signal
        import sys

        from synth.env.cache import MemoryCache, SqliteCache
        from synth.env.corpus import MODES, Corpus
        from synth.env.server import ToolServer
        from synth.env.tools import ToolBox, default_sandbox
        from synth.errors import UserError

        if mode is not None and mode not in MODES:
            raise UserError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
        kb = Corpus(corpus)
        has_dense = bool(kb.card.get("indexes", {}).get("dense"))
        if mode in ("dense", "hybrid") and not has_dense:
            raise UserError(f"--mode {mode}: {corpus} was built without a dense index; use --mode bm25")
        mode = mode or ("hybrid" if has_dense else "bm25")
        box = ToolBox(kb, cache=SqliteCache(cache) if cache else MemoryCache(),
                      sandbox=default_sandbox() if python else None, default_mode=mode,
                      extractor=_extractor(visit_teacher, model))
        box.warm()  # load indexes and the encoder now: first requests are fast and threads do not race
        try:
            server = ToolServer(box, host=host, port=port)
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        print(f"serving {', '.join(box.tools)} for {corpus} (version {box.corpus.version}) on {server.url}",
              file=sys.stderr, flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()


def _extractor(teacher: str, model: str | None):
    """The visit extractor for --teacher: a running endpoint only (a server must not spawn an engine)."""
    from synth.errors import UserError
    from synth.teachers.spec import parse_spec

    spec = parse_spec(teacher, model)
    if spec.kind == "none":
        return None
    if spec.kind != "openai":
        raise UserError("serve tools --teacher takes openai:URL (start `vllm serve` and give its URL), "
                        f"not {spec.kind}:")
    from synth.env.extract import TeacherExtractor

    return TeacherExtractor(spec.target, spec.model)
