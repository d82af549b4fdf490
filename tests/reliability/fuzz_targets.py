"""The fuzz targets: every reader of synth (dataset files and folders, corpus sources, code seeds, pipeline
files, trajectory importers) and `synth validate`, each with the strategy that draws its inputs (see fuzz.py).
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.reliability.fuzz import NASTY, check, damaged, json_values, jsonl_of, records

# -- fixtures the targets damage (built once per process) --------------------------------------------------
_FIXED: dict[str, Any] = {}


def _fixed_dir() -> Path:
    if "dir" not in _FIXED:
        _FIXED["dir"] = Path(tempfile.mkdtemp(prefix="synth-fuzz-"))
    return _FIXED["dir"]


def trajectory(i: int) -> dict:
    call = {"id": f"c{i}", "type": "function", "function": {"name": "search", "arguments": json.dumps({"q": f"q{i}"})}}
    return {"id": f"t{i}", "question": f"q{i}?", "messages": [
        {"role": "user", "content": f"q{i}?"}, {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": f"c{i}", "name": "search", "content": f"r{i}"},
        {"role": "assistant", "content": f"a{i}"}]}


TRAJECTORIES = jsonl_of([trajectory(i) for i in range(3)])


def parquet_bytes() -> bytes:
    if "parquet" not in _FIXED:
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist([{"id": f"r{i}", "text": f"row {i}", "n": i} for i in range(20)]), sink)
        _FIXED["parquet"] = sink.getvalue()
    return _FIXED["parquet"]


def hf_dir() -> Path:
    path = _fixed_dir() / "hf"
    if not path.is_dir():
        import datasets

        datasets.Dataset.from_list([{"id": f"r{i}", "text": f"row {i}"} for i in range(10)]).save_to_disk(str(path))
    return path


def synth_dir() -> Path:
    path = _fixed_dir() / "synth"
    if not (path / "manifest.json").is_file():
        from typer.testing import CliRunner

        from synth.cli import app

        src = _fixed_dir() / "src.jsonl"
        src.write_bytes(TRAJECTORIES)
        res = CliRunner().invoke(app, ["import", str(src), "--kind", "trajectory", "--out", str(path), "--json"])
        assert res.exit_code == 0, res.output
    return path


# -- targets -----------------------------------------------------------------------------------------------
def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _rows(path: Path, kind: str | None = None) -> None:
    from synth.dataset import iter_rows

    for _ in iter_rows([path], kind):
        pass


def reader_jsonl(data: bytes, tmp: Path) -> str:
    path = _write(tmp, "in.jsonl", data)
    return check(lambda: _rows(path, "trajectory"), path)


def reader_records(rows: list[dict], tmp: Path) -> str:
    path = _write(tmp, "in.jsonl", jsonl_of(rows))
    return check(lambda: _rows(path, "trajectory"), path)


def reader_json(data: bytes, tmp: Path) -> str:
    path = _write(tmp, "in.json", data)
    return check(lambda: _rows(path), path)


def reader_gzip(data: bytes, tmp: Path) -> str:
    path = _write(tmp, "in.jsonl.gz", data)
    return check(lambda: _rows(path), path)


def reader_parquet(data: bytes, tmp: Path) -> str:
    path = _write(tmp, "in.parquet", data)
    return check(lambda: _rows(path), path)


def reader_parquet_types(rows: list[dict], tmp: Path) -> str:
    """Parquet files whose columns have any type (the reader must not care; a kind check must say which field)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp / "typed.parquet"
    try:
        pq.write_table(pa.Table.from_pylist(rows), path)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return "skip"  # not representable in Parquet: not a file anyone can hand us
    return check(lambda: _rows(path, "trajectory"), path)


def _damage_copy(source: Path, tmp: Path, pick: int, data_fn: Callable[[bytes], bytes]) -> tuple[Path, Path]:
    target = tmp / source.name
    shutil.copytree(source, target)
    files = sorted(p for p in target.rglob("*") if p.is_file() and ".synth" not in p.parts)
    victim = files[pick % len(files)]
    victim.write_bytes(data_fn(victim.read_bytes()))
    return target, victim


def reader_hf(args: tuple[int, int, bytes], tmp: Path) -> str:
    pick, cut, junk = args
    folder, victim = _damage_copy(hf_dir(), tmp, pick, lambda b: b[: cut % (len(b) + 1)] + junk)
    return check(lambda: _rows(folder), folder, victim)


def reader_synth_dir(args: tuple[int, int, bytes], tmp: Path) -> str:
    pick, cut, junk = args
    folder, victim = _damage_copy(synth_dir(), tmp, pick, lambda b: b[: cut % (len(b) + 1)] + junk)
    return check(lambda: _rows(folder, "trajectory"), folder, victim)


def validate_cli(data: bytes, tmp: Path) -> str:
    """`synth validate FILE --kind trajectory` in process: exit 0 or 2, one line per violation, no traceback."""
    from typer.testing import CliRunner

    from synth.cli import app

    path = _write(tmp, "v.jsonl", data)
    res = CliRunner().invoke(app, ["validate", str(path), "--kind", "trajectory"])
    assert res.exit_code in (0, 2), f"exit {res.exit_code}: {res.output[-500:]} {res.exception!r}"
    assert "Traceback" not in res.output and "internal error" not in res.output, res.output[-500:]
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert all(line.startswith((str(path), "error:", "...")) for line in lines), lines[:3]
    return "ok" if res.exit_code == 0 else "error"


def importer(record: dict, tmp: Path, source: str = "auto") -> str:
    from synth.pipelines.trajectories.importer import ConvertTrajectory

    from synth.records import Reject

    result = ConvertTrajectory(source).process(record)
    assert isinstance(result, (dict, Reject)), type(result)
    return "error" if isinstance(result, Reject) else "ok"


def importer_files(args: tuple[str, bytes], tmp: Path) -> str:
    """Staged inputs (Search-R1 transcripts, bare message lists), then the reader."""
    from synth.pipelines.trajectories.importer import stage_inputs

    suffix, data = args
    path = _write(tmp, f"in{suffix}", data)

    def run():
        for staged in stage_inputs([str(path)], tmp / "staged"):
            if staged.endswith((".jsonl", ".json")):
                _rows(Path(staged))
    return check(run, path)


def corpus_tabular(data: bytes, tmp: Path) -> str:
    from synth.env.sources import open_source

    path = _write(tmp, "docs.jsonl", data)
    return check(lambda: list(open_source(str(path))), path)


def corpus_dictd(args: tuple[bytes, bytes], tmp: Path) -> str:
    from synth.env.sources import open_source

    index, body = args
    _write(tmp, "d.dict", body)
    path = _write(tmp, "d.index", index)
    return check(lambda: list(open_source(str(path))), path, tmp / "d.dict")


def corpus_mediawiki(args: tuple[str, bytes], tmp: Path) -> str:
    from synth.env.sources import open_source

    suffix, data = args
    if suffix == ".xml.gz":
        data = gzip.compress(data[: len(data) // 2]) + data[len(data) // 2:]  # a damaged compressed stream too
    path = _write(tmp, f"dump{suffix}", data)
    return check(lambda: list(open_source(str(path))), path)


def code_seeds(data: bytes, tmp: Path) -> str:
    from synth.pipelines.code.problems import read_seeds

    path = _write(tmp, "seeds.jsonl", data)
    return check(lambda: list(read_seeds(path)), path)


def pipeline_file(args: tuple[str, bytes], tmp: Path) -> str:
    from synth.run import file as pf

    suffix, data = args
    path = _write(tmp, f"pipe{suffix}", data)
    return check(lambda: pf.load(path), path)


# -- the valid files the damage starts from ----------------------------------------------------------------
DICT_BODY = (b"Alpha\n\n   The first {Beta} entry.\n\n   (2001-01-01)\n\nBeta\n\n   Second entry about {Alpha}.\n\n")
DICT_INDEX = b"Alpha\tA\tBs\nBeta\tBs\t5\n"
WIKI = (b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/"><siteinfo><namespaces>'
        b'<namespace key="0" /><namespace key="14">Category</namespace></namespaces></siteinfo>'
        b"<page><title>Alpha</title><ns>0</ns><id>1</id><revision><timestamp>2024-01-01T00:00:00Z</timestamp>"
        b"<text>'''Alpha''' links [[Beta]] and {{tmpl|x}} [[Category:Things]]</text></revision></page>"
        b"<page><title>Beta</title><ns>0</ns><id>2</id><revision><timestamp>2024-01-02T00:00:00Z</timestamp>"
        b"<text>#REDIRECT [[Alpha]]</text></revision></page></mediawiki>")
DOCS = jsonl_of([{"id": "a", "title": "Alpha", "text": "Alpha links Beta.", "links": ["Beta"],
                  "updated_at": "2024-01-01T00:00:00Z", "categories": ["x"]},
                 {"id": "b", "title": "Beta", "text": "Beta.", "links": [{"target": "Alpha", "anchor": "Beta",
                                                                         "start": 0, "end": 4}]}])
SEEDS = jsonl_of([{"id": "add", "prompt": "Add two numbers.", "entry_point": "add",
                   "reference_solution": "def add(a, b):\n    return a + b\n", "tests": [[1, 2], [3, 4]]}])
PIPELINE = (b"workdir: runs/x\nvars: {num: 4}\nstages:\n  corpus:\n    command: corpus build\n    args: [foldoc]\n"
            b"  gen:\n    command: generate deepsearch\n    flags:\n      corpus: ${stages.corpus.out}\n"
            b"      num: ${vars.num}\n")
PIPELINE_TOML = (b'[vars]\nnum = 4\n[stages.corpus]\ncommand = "corpus build"\nargs = ["foldoc"]\n'
                 b'[stages.gen]\ncommand = "generate deepsearch"\n[stages.gen.flags]\ncorpus = "${stages.corpus.out}"\n')
text_or_any = st.text(max_size=40) | st.sampled_from(["<tool_call>{\"name\": \"search\"}</tool_call>",
                                                     "<think>x</think>", "<tool_response>r</tool_response>",
                                                     "<use_mcp_tool>", "<|im_start|>assistant\n"]) | json_values
calls = st.lists(st.fixed_dictionaries({}, optional={"id": json_values, "type": json_values, "function":
                 st.fixed_dictionaries({}, optional={"name": text_or_any, "arguments": text_or_any}) | json_values}),
                 max_size=3) | json_values
messages = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant", "tool",
                                                                   "developer"]) | json_values},
                                          optional={"content": text_or_any, "tool_calls": calls, "name": json_values,
                                                    "tool_call_id": json_values, "reasoning_content": text_or_any}),
                    max_size=6)
RECORD_LIKE = st.fixed_dictionaries({}, optional={"messages": messages, "traj": messages, "message_history": messages,
                                                  **{k: json_values for k in ("id", "tools", "functions", "answer",
                                                                              "text", "question", "info", "task_id")}})
SEARCH_R1 = (b"<|im_start|>system\nYou search.<|im_end|>\n<|im_start|>user\nQuestion: who?<|im_end|>\n"
             b"<|im_start|>assistant\n<think>hm</think><search>who</search><information>Doc 1</information>"
             b"<answer>him</answer><|im_end|>\n")


def _parts(*strategies):
    return st.tuples(*strategies)


TARGETS: dict[str, tuple[Any, Callable[[Any, Path], str]]] = {
    "reader: JSONL (damaged bytes)": (damaged(TRAJECTORIES), reader_jsonl),
    "reader: JSONL (wrong types)": (st.lists(records, min_size=1, max_size=4), reader_records),
    "reader: JSON": (damaged(json.dumps([trajectory(0), trajectory(1)]).encode()), reader_json),
    "reader: JSONL.gz": (damaged(gzip.compress(TRAJECTORIES)), reader_gzip),
    "reader: Parquet (damaged bytes)": (st.builds(lambda: parquet_bytes()).flatmap(damaged), reader_parquet),
    "reader: Parquet (any column types)": (st.lists(records, min_size=1, max_size=4), reader_parquet_types),
    "reader: HF dataset folder": (_parts(st.integers(0, 20), st.integers(0, 10**6), st.sampled_from(NASTY[:8])),
                                  reader_hf),
    "reader: synth dataset dir": (_parts(st.integers(0, 20), st.integers(0, 10**6), st.sampled_from(NASTY[:8])),
                                  reader_synth_dir),
    "synth validate": (damaged(TRAJECTORIES), validate_cli),
    "import --from auto (records)": (RECORD_LIKE | records, importer),
    "import --from (staged .txt/.json)": (_parts(st.sampled_from([".txt", ".json"]),
                                                 st.sampled_from([SEARCH_R1, TRAJECTORIES]).flatmap(damaged)),
                                          importer_files),
    "corpus: JSONL rows": (st.one_of(damaged(DOCS), st.lists(records, max_size=3).map(jsonl_of)), corpus_tabular),
    "corpus: dictd": (_parts(damaged(DICT_INDEX), damaged(DICT_BODY)), corpus_dictd),
    "corpus: MediaWiki XML": (_parts(st.sampled_from([".xml", ".xml.gz", ".xml.bz2"]), damaged(WIKI)),
                              corpus_mediawiki),
    "code seeds": (st.one_of(damaged(SEEDS), st.lists(records, max_size=3).map(jsonl_of)), code_seeds),
    "synth run pipeline file": (_parts(st.sampled_from([".yaml", ".toml"]), st.sampled_from([PIPELINE, PIPELINE_TOML])
                                       .flatmap(damaged)), pipeline_file),
}


