"""Secrets: an API key in the environment reaches the teacher (the server sees `Authorization: Bearer KEY`)
and nothing else: not the records, rejects, manifest, dataset card, task logs, progress files or the
command's stdout/stderr, even when a hostile endpoint echoes the key back in its error bodies.

Parquet pages are compressed, so a byte search could miss a key inside one: parquet files are also read
back and searched as text.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.core.helpers import write_jsonl
from tests.reliability import procs
from tests.reliability.scenarios import Deepsearch, LabelTurns, Switchboard
from tests.teachers.fake_openai import Fail, FakeOpenAI, Say, last_user

KEY = "sk-synth-canary-5f0e3a9c1d7b4e2a"
ENV = {"SYNTH_API_KEY": KEY, "OPENAI_API_KEY": KEY}


def leaks(paths: list[Path]) -> list[str]:
    """Files (under each path, recursively) that contain KEY, as bytes or, for parquet, as decoded text."""
    found = []
    for root in paths:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if KEY.encode() in data:
                found.append(str(path))
            elif path.suffix == ".parquet":
                import pyarrow.parquet as pq

                if KEY in json.dumps(pq.read_table(path).to_pylist(), default=str):
                    found.append(f"{path} (decoded)")
    return found


def hostile(answer):
    """Echo the caller's Authorization header back in error bodies (400, 500) for some prompts."""
    def handler(req):
        auth = req.headers.get("Authorization", "")
        digit = sum(map(ord, last_user(req))) % 5
        if digit == 0:
            return Fail(500, json.dumps({"error": {"message": f"upstream rejected {auth}"}}))
        if digit == 1:
            return Fail(400, json.dumps({"error": {"message": f"bad request from {auth}"}}))
        return answer(req)
    return handler


def used_key(requests) -> bool:
    return bool(requests) and all(r.headers.get("Authorization") == f"Bearer {KEY}" for r in requests)


def test_generate_responses_against_an_echoing_endpoint_leaks_nothing(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"p{i}", "messages": [{"role": "user", "content": f"prompt {i}"}]}
                                              for i in range(20)])
    out, log = tmp_path / "out", tmp_path / "run.log"
    with FakeOpenAI(hostile(lambda req: Say(f"answer to {last_user(req)}"))) as fake:
        rc = procs.run(procs.cli("generate", "responses", str(src), "--out", str(out), "--teacher",
                                 f"openai:{fake.url}", "--model", "fake-model", "--n", "1", "--retries", "0",
                                 "--chunk-size", "4", "--json"), log, env=ENV)
        assert rc == 0, log.read_text()[-2000:]
        assert used_key(fake.completions())
    rejects = json.loads(log.read_text().strip().splitlines()[-1])["counts"]["rejected_by_reason"]
    assert rejects.get("teacher_server_error") and rejects.get("teacher_bad_request"), rejects  # echoes were seen
    assert leaks([out, log]) == []


def test_an_endpoint_refusing_the_key_stops_with_a_line_that_does_not_show_it(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "p0", "messages": [{"role": "user", "content": "hi"}]}])
    with FakeOpenAI(lambda req: Fail(401, json.dumps({"error": f"invalid key {req.headers.get('Authorization')}"}))) \
            as fake:
        res = subprocess.run(procs.cli("generate", "responses", str(src), "--out", str(tmp_path / "out"), "--teacher",
                                       f"openai:{fake.url}", "--model", "fake-model", "--retries", "0"),
                             cwd=procs.REPO, check=False, capture_output=True, text=True, timeout=300, env={**_env(), **ENV})
    assert res.returncode != 0 and "401" in res.stderr, res.stderr[-1000:]
    assert KEY not in res.stdout + res.stderr
    assert not (tmp_path / "out").exists() or leaks([tmp_path / "out"]) == []


def test_credentials_in_the_teacher_url_are_refused_without_echoing_them(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "p0", "messages": [{"role": "user", "content": "hi"}]}])
    for url in (f"http://user:{KEY}@127.0.0.1:9/v1", f"http://127.0.0.1:9/v1?api_key={KEY}"):
        res = subprocess.run(procs.cli("generate", "responses", str(src), "--out", str(tmp_path / "out"),
                                       "--teacher", f"openai:{url}", "--model", "m"),
                             cwd=procs.REPO, check=False, capture_output=True, text=True, timeout=300)
        assert res.returncode == 2 and "SYNTH_API_KEY" in res.stderr, res.stderr[-500:]
        assert KEY not in res.stdout + res.stderr
        assert not (tmp_path / "out").exists() or leaks([tmp_path / "out"]) == []


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [LabelTurns, Deepsearch], ids=["label turns", "generate deepsearch"])
def test_long_teacher_commands_leak_nothing(scenario, tmp_path):
    s = scenario()
    s.prepare(tmp_path)
    out, log = tmp_path / "out", tmp_path / "run.log"
    with FakeOpenAI(hostile(Switchboard(s.handler()))) as fake:
        rc = procs.run(procs.cli(*s.argv(out, fake.url), "--retries", "0"), log, env=ENV)
        assert rc == 0, log.read_text()[-2000:]
        assert used_key(fake.completions())
    assert (out / "manifest.json").is_file() and any((out / "rejects").glob("*"))
    assert leaks([out, log]) == []


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k not in ENV}
