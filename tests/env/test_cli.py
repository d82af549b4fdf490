"""`synth corpus build` and `synth serve tools` through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from typer.testing import CliRunner

from synth.cli import app


def test_corpus_build_cli(tmp_path, tiny_jsonl):
    out = tmp_path / "c"
    result = CliRunner().invoke(app, ["corpus", "build", str(tiny_jsonl), "--out", str(out), "--no-dense", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["documents"] == 17 and summary["indexes"] == {"bm25": "bm25s"}
    assert json.loads((out / "manifest.json").read_text())["command"] == "corpus build"


def test_corpus_build_errors_exit_2(tmp_path):
    missing = CliRunner().invoke(app, ["corpus", "build", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad = CliRunner().invoke(app, ["corpus", "build", "foldoc", "--out", str(tmp_path / "o"), "--dense-index", "lsh"])
    assert bad.exit_code == 2 and "--dense-index" in bad.output


def test_serve_tools_on_loopback(tmp_path, tiny_jsonl):
    from synth.env.build import BuildConfig, build_corpus

    corpus = tmp_path / "lexical"  # BM25 only: the server then starts without loading torch/MiniLM
    build_corpus(str(tiny_jsonl), corpus, BuildConfig(dense=False, show_progress=False))
    token = "a-token-the-test-chose"  # serve tools needs a bearer token on every route but /health (issue 28)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SYNTH_TOOLS_TOKEN": token}
    proc = subprocess.Popen([sys.executable, "-m", "synth.cli", "serve", "tools", "--corpus", str(corpus),
                             "--port", "0", "--no-python"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()  # "serving ... on http://127.0.0.1:PORT"
        assert "serving" in line, line
        url = line.strip().rsplit(" ", 1)[-1]
        body = json.dumps({"name": "search", "arguments": {"query": "Swiss computer scientist", "k": 2}})
        req = urllib.request.Request(url + "/call", data=body.encode(), headers={"Content-Type": "application/json",
                                                                            "Authorization": f"Bearer {token}"})
        deadline = time.time() + 60
        with urllib.request.urlopen(req, timeout=deadline - time.time()) as resp:
            result = json.loads(resp.read())["result"]
        assert result["results"][0]["doc_id"] == "wirth" and result["mode"] == "bm25"  # default without dense
    finally:
        proc.terminate()
        # uvicorn finishes in-flight calls, then re-raises SIGTERM (its default since 0.29): a clean stop
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)  # generous: CI boxes are shared
