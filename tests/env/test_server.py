"""The tool server on loopback: same results as the in-process tools, errors as HTTP 400."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from synth.env.corpus import Corpus
from synth.env.server import ToolServer
from synth.env.tools import ToolBox


@pytest.fixture(scope="module")
def server(tiny_corpus):
    srv = ToolServer(ToolBox(Corpus(tiny_corpus)), port=0, token=TOKEN).start()
    yield srv
    srv.stop()


TOKEN = "test-token-for-the-tool-server"


def _post(url: str, body: dict | bytes, token: str = TOKEN) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                          "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_health_and_schemas(server, tiny_corpus):
    with urllib.request.urlopen(server.url + "/health", timeout=10) as resp:
        health = json.loads(resp.read())
    assert health["status"] == "ok" and health["corpus_version"] == Corpus(tiny_corpus).version
    tools = urllib.request.Request(server.url + "/tools", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(tools, timeout=10) as resp:
        assert [t["function"]["name"] for t in json.loads(resp.read())][:3] == ["search", "open", "visit"]


def test_calls_match_in_process_results(server, tiny_corpus):
    args = {"query": "Swiss computer scientist Pascal", "k": 3, "mode": "bm25"}
    status, body = _post(server.url + "/call", {"name": "search", "arguments": json.dumps(args)})
    assert status == 200 and body["result"] == ToolBox(Corpus(tiny_corpus)).call("search", args)
    status, body = _post(server.url + "/tools/open", {"doc_id": "wirth"})
    assert status == 200 and body["result"]["title"] == "Niklaus Wirth"


def test_errors(server):
    assert _post(server.url + "/call", {"name": "nope", "arguments": {}}) [0] == 400
    status, body = _post(server.url + "/call", {"name": "search", "arguments": {"k": 3}})
    assert status == 400 and body["error"] == "invalid_arguments"
    assert _post(server.url + "/call", b"{oops")[0] == 400
    assert _post(server.url + "/elsewhere", {})[0] == 404


def test_python_tool_over_http_runs_in_the_sandbox(tiny_corpus):
    from synth.env.tools import default_sandbox

    sandbox = default_sandbox()
    if sandbox is None:
        pytest.skip("no sandbox backend on this machine")
    srv = ToolServer(ToolBox(Corpus(tiny_corpus), sandbox=sandbox), port=0, token=TOKEN).start()
    try:
        status, body = _post(srv.url + "/call", {"name": "python", "arguments": {"code": "print(6 * 7)"}})
        assert status == 200 and body["result"]["status"] == "ok" and body["result"]["stdout"].strip() == "42"
        status, body = _post(srv.url + "/tools/python", {"code": "import socket\nsocket.create_connection(('1.1.1.1', 80))"})
        assert status == 200 and body["result"]["status"] != "ok"  # no network inside the sandbox
    finally:
        srv.stop()
