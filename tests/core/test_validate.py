import json

import pyarrow as pa
import pyarrow.parquet as pq

from synth import arrow
from tests.core.helpers import synth, trajectory, write_jsonl


def _dataset(tmp_path, fmt="jsonl"):
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(6)])
    assert synth("import", str(src), "--kind", "trajectory", "--format", fmt, "--out", str(tmp_path / "ds")).returncode == 0
    return tmp_path / "ds"


def test_valid_dataset_passes(tmp_path):
    res = synth("validate", str(_dataset(tmp_path, "parquet")), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["valid"] is True


def test_planted_bad_record_exits_2_naming_row_and_field(tmp_path):
    ds = _dataset(tmp_path)
    shard = sorted((ds / "data").glob("*.jsonl"))[0]
    lines = shard.read_text().splitlines()
    record = json.loads(lines[3])
    record["messages"][1]["loss"] = 2
    lines[3] = json.dumps(record)
    shard.write_text("\n".join(lines) + "\n")
    res = synth("validate", str(ds))
    assert res.returncode == 2
    assert f"{shard}:4: field 'messages[1].loss'" in res.stderr


def test_parquet_row_with_broken_json_text_is_reported(tmp_path):
    ds = _dataset(tmp_path, "parquet")
    shard = sorted((ds / "data").glob("*.parquet"))[0]
    rows = pq.read_table(shard).to_pylist()
    rows[1]["tools"] = ["{not json"]
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow.arrow_schema("trajectory")[0]), shard)
    res = synth("validate", str(ds))
    assert res.returncode == 2 and f"{shard}:2: malformed JSON text" in res.stderr


def test_plain_file_needs_kind(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "messages": []}])
    assert synth("validate", str(src)).returncode == 2
    res = synth("validate", str(src), "--kind", "trajectory")
    assert res.returncode == 2 and "in.jsonl:1: field 'messages'" in res.stderr
