import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth.dataset import iter_rows, read_records
from synth.errors import InputError
from tests.core.helpers import trajectory, write_jsonl


def test_reads_jsonl_gz_json_parquet_and_folders(tmp_path):
    recs = [trajectory(i) for i in range(3)]
    write_jsonl(tmp_path / "a.jsonl", recs)
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as fh:
        fh.write(json.dumps(recs[0]) + "\n")
    (tmp_path / "c.json").write_text(json.dumps(recs[:2]))
    pq.write_table(pa.Table.from_pylist([{"id": "p1", "text": "hello"}]), tmp_path / "d.parquet")
    assert len(list(read_records([tmp_path / "a.jsonl"], kind="trajectory"))) == 3
    assert [r["id"] for r in read_records([tmp_path / "b.jsonl.gz"])] == ["traj-000000"]
    assert len(list(read_records([tmp_path / "c.json"]))) == 2
    assert list(read_records([tmp_path / "d.parquet"])) == [{"id": "p1", "text": "hello"}]
    assert len(list(read_records([tmp_path]))) == 3 + 1 + 2 + 1


def test_reads_a_hugging_face_save_to_disk_folder(tmp_path):
    import datasets

    datasets.Dataset.from_list([{"id": "h1", "text": "x"}, {"id": "h2", "text": "y"}]).save_to_disk(tmp_path / "hf")
    assert [r["id"] for r in read_records([tmp_path / "hf"])] == ["h1", "h2"]


@pytest.mark.parametrize("line, row, fragment", [
    (b'{"id": "a", "messages": [}\n', 2, "malformed JSON"),
    (b'{"id": "a\xff"}\n', 2, "invalid UTF-8"),
    (b'[1, 2]\n', 2, "expected a JSON object"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, row, fragment):
    path = tmp_path / "in.jsonl"
    path.write_bytes(json.dumps(trajectory(0)).encode() + b"\n" + line)
    with pytest.raises(InputError) as err:
        list(iter_rows([path]))
    assert err.value.row == row and fragment in str(err.value) and str(path) in str(err.value)


def test_wrong_field_type_names_the_field(tmp_path):
    bad = trajectory(1)
    bad["messages"][1]["tool_calls"][0]["function"]["arguments"] = {"query": "not a string"}
    path = write_jsonl(tmp_path / "in.jsonl", [trajectory(0), bad])
    with pytest.raises(InputError) as err:
        list(iter_rows([path], kind="trajectory"))
    assert str(err.value).startswith(f"{path}:2: field 'messages[1].tool_calls[0].function.arguments'")


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(iter_rows([tmp_path / "nope.jsonl"]))


def test_reading_streams_in_constant_memory(tmp_path):
    """The reader holds one line at a time: a 300k-line file is read without growing memory with it."""
    import tracemalloc

    line = json.dumps({"id": "x", "text": "y" * 200}) + "\n"
    path = tmp_path / "big.jsonl"
    path.write_text(line * 300_000)
    tracemalloc.start()
    count = sum(1 for _ in read_records([path]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 300_000
    assert peak < 5 * 2**20, f"peak {peak} bytes while the file is {path.stat().st_size}"
