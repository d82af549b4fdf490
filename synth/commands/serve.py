"""`synth serve tools --corpus CORPUS --host 127.0.0.1 --port P`: the agent tools over HTTP/JSON.

Routes, payloads and limits: synth/env/server.py. Runs until interrupted (Ctrl-C / SIGTERM). Every call but
/health needs the bearer token printed at start (or set in SYNTH_TOOLS_TOKEN); a non-loopback --host
needs --allow-remote.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command
from synth.options import Common, flag, options


@options
class ServeToolsOptions(Common):
    corpus: Path = flag(help="A CORPUS directory from `synth corpus build`.", cli=("--corpus",))
    host: str = flag("127.0.0.1", "Interface to bind (keep 127.0.0.1 unless you mean it).")
    port: int = flag(8765, "TCP port (0: any free port, printed).", min=0, max=65535)
    cache: Path | None = flag(None, "SQLite file that keeps tool results across runs.")
    mode: str | None = flag(None, "Default search mode: bm25 | dense | hybrid (default: hybrid, or bm25 for a corpus "
                            "built --no-dense).")
    python: bool = flag(True, "Offer the sandboxed python tool.", cli=("--python/--no-python",))
    # Named visit_teacher, not teacher: a server has no teacher budget or engine flags (TeacherFlags).
    visit_teacher: str = flag("none", "openai:URL: `visit` adds the teacher's extract of the passages for the goal "
                              "(any OpenAI-compatible endpoint, vLLM included; key from SYNTH_API_KEY); none: "
                              "passages only.", cli=("--teacher",))
    model: str | None = flag(None, "Model name the teacher endpoint serves.")
    allow_remote: bool = flag(False, "Required to bind a non-loopback --host: anyone who can reach it and holds the "
                              "token runs code.", cli=("--allow-remote",))
    python_workers: int = flag(8, "Sandboxed python runs at once; more calls queue (429/503 with Retry-After when "
                               "full).", min=1, max=64)
    request_timeout: float = flag(10.0, "Seconds a client has to send a whole request (slower connections are "
                                  "closed).", min=0.1)
    call_timeout: float = flag(60.0, "Seconds a tool call may take (504 after).", min=0.1)


def serve(opts: ServeToolsOptions) -> None:
    """Serve search / open / visit (and python) over HTTP/JSON for external agent frameworks."""
    import os
    import sys

    from synth.env.cache import MemoryCache, SqliteCache
    from synth.env.corpus import MODES, Corpus
    from synth.env.server import TOKEN_ENV, ServerLimits, ToolServer, is_loopback
    from synth.env.tools import ToolBox, default_sandbox
    from synth.errors import UserError

    host, port, mode, corpus = opts.host, opts.port, opts.mode, opts.corpus
    if not is_loopback(host) and not opts.allow_remote:
        raise UserError(f"--host {host} is reachable from other machines and the python tool runs code: "
                        "pass --allow-remote if you mean it (keep 127.0.0.1 otherwise)")
    if mode is not None and mode not in MODES:
        raise UserError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    kb = Corpus(corpus)
    has_dense = bool(kb.card.get("indexes", {}).get("dense"))
    if mode in ("dense", "hybrid") and not has_dense:
        raise UserError(f"--mode {mode}: {corpus} was built without a dense index; use --mode bm25")
    mode = mode or ("hybrid" if has_dense else "bm25")
    box = ToolBox(kb, cache=SqliteCache(opts.cache) if opts.cache else MemoryCache(),
                  sandbox=default_sandbox() if opts.python else None, default_mode=mode,
                  extractor=_extractor(opts.visit_teacher, opts.model))
    box.warm()  # load indexes and the encoder now: first requests are fast and threads do not race
    limits = ServerLimits(python_workers=opts.python_workers, request_read_s=opts.request_timeout,
                          call_s=opts.call_timeout)
    try:
        server = ToolServer(box, host=host, port=port, limits=limits)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if not is_loopback(host):
        print(f"WARNING: serving on {host}, reachable from other machines; every client with the token can "
              "run code in the sandbox", file=sys.stderr, flush=True)
    print(f"serving {', '.join(box.tools)} for {corpus} (version {box.corpus.version}) on {server.url}",
          file=sys.stderr, flush=True)
    if not os.environ.get(TOKEN_ENV):  # a token the user chose is not echoed
        print(f"token: {server.token}  (send 'Authorization: Bearer TOKEN'; set {TOKEN_ENV} to choose it)",
              file=sys.stderr, flush=True)
    server.serve_forever()  # until SIGINT/SIGTERM; in-flight calls finish first


def register(app: typer.Typer) -> None:
    command(app, "tools", ServeToolsOptions, serve)


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
