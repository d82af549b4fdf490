"""Two Foundation guarantees the crash campaign relies on:
* one writer per --out: a second concurrent run exits 2 with one line naming the holder's pid;
* a SIGKILLed `synth` (the main process only, as an OOM killer or `kill -9 PID` does) leaves no process
  behind: no datatrove Manager, no pool worker still writing into --out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading

import pytest

from tests.core.helpers import write_jsonl
from tests.reliability import procs
from tests.teachers.fake_openai import Block, Say, last_user


def _prompts(path, n: int):
    return write_jsonl(path, [{"id": f"p{i}", "messages": [{"role": "user", "content": f"prompt {i}"}]}
                              for i in range(n)])


def _argv(src, out, url, *extra):
    return procs.cli("generate", "responses", str(src), "--out", str(out), "--teacher", f"openai:{url}",
                     "--model", "fake-model", "--n", "1", "--chunk-size", "2", "--json", *extra)


def test_a_second_writer_of_the_same_out_exits_2_naming_the_holder(fake_openai, tmp_path):
    src, out = _prompts(tmp_path / "in.jsonl", 4), tmp_path / "out"
    go = threading.Event()
    fake_openai.handler = lambda req: Block(go, then=Say(f"answer {last_user(req)}"))
    first = procs.start(_argv(src, out, fake_openai.url), tmp_path / "first.log")
    try:
        assert procs.wait_until(lambda: len(fake_openai.completions()) >= 1, first, timeout=120)
        second = subprocess.run(_argv(src, out, fake_openai.url), cwd=procs.REPO, check=False, capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and str(out) in lines[0]
    finally:
        go.set()
    assert first.wait(timeout=120) == 0, (tmp_path / "first.log").read_text()[-2000:]
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_of_the_main_process_leaves_no_process_behind(fake_openai, tmp_path, workers):
    src, out = _prompts(tmp_path / "in.jsonl", 4), tmp_path / "out"
    go = threading.Event()
    fake_openai.handler = lambda req: Block(go, then=Say("late"))
    proc = procs.start(_argv(src, out, fake_openai.url, "--workers", str(workers), "--tasks", str(workers)),
                       tmp_path / "run.log")
    try:
        assert procs.wait_until(lambda: len(fake_openai.completions()) >= workers, proc, timeout=120)
        below = procs.descendants(proc.pid)
        if workers > 1:
            assert below, "a pool of workers was expected below the main process"
        os.kill(proc.pid, signal.SIGKILL)  # the main process only: what is left is on its own
        proc.wait()
        survivors = procs.settle(below, timeout=10)
        assert not survivors, f"still alive after the main process was killed: {survivors}"
    finally:
        go.set()
        procs.kill_group(proc)


def test_a_torn_datatrove_chunk_index_does_not_stop_the_resume(fake_openai, tmp_path):
    """datatrove rewrites OUT/.synth/inference/last_chunk/RRRRR.txt in place; a SIGKILL between its truncate
    and its write left it empty and every resume died on int(''). Found by the crash campaign (label turns)."""
    src, out = _prompts(tmp_path / "in.jsonl", 8), tmp_path / "out"
    go, lock, answered = threading.Event(), threading.Lock(), []

    def first_five(req):
        with lock:
            if len(answered) >= 5:
                return Block(go, then=Say(f"answer {last_user(req)}"))
            answered.append(req)
        return Say(f"answer {last_user(req)}")

    fake_openai.handler = first_five
    index = out / ".synth" / "inference" / "last_chunk" / "00000.txt"
    proc = procs.start(_argv(src, out, fake_openai.url), tmp_path / "run.log")
    try:
        assert procs.wait_until(lambda: index.is_file() and index.read_text().strip(), proc, timeout=120)
    finally:
        procs.kill_group(proc)
        go.set()
    index.write_text("")  # the kill landed inside datatrove's rewrite
    fake_openai.handler = lambda req: Say(f"answer {last_user(req)}")
    assert procs.run(_argv(src, out, fake_openai.url), tmp_path / "run.log") == 0, (tmp_path / "run.log").read_text()
    from synth.dataset import read_records

    assert sorted(r["id"] for r in read_records([out])) == [f"p{i}-0" for i in range(8)]
