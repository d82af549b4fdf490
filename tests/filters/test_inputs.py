"""Issue 23, small items: an input with no records, a damaged parquet row group, help at 80 columns, and the
MinHash knob (`--minhash-threshold` picks LSH bands whose S-curve splits at that Jaccard)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from synth.filters.dedup.minhash import MinhashOptions, collision_probability, lsh_shape
from typer.testing import CliRunner

from synth.cli import app
from synth.dataset import iter_rows
from synth.errors import InputError
from tests.filters.helpers import kept_ids, run, write_jsonl


@pytest.mark.slow  # two full CLI runs
def test_empty_input_warns_and_exits_0_or_2_with_strict(tmp_path):
    src = write_jsonl(tmp_path / "empty.jsonl", [])
    result = CliRunner().invoke(app, ["filter", str(src), "--out", str(tmp_path / "out"), "--filters", "none"])
    assert result.exit_code == 0, result.output
    assert f"warning: no records in {src}" in result.stderr
    assert kept_ids(tmp_path / "out") == []
    strict = CliRunner().invoke(app, ["filter", str(src), "--out", str(tmp_path / "out2"), "--strict"])
    assert strict.exit_code == 2 and f"no records in {src} (--strict)" in strict.output
    assert not (tmp_path / "out2").exists()  # refused before anything is written


def _damaged_parquet(path, rows: int = 3000, group: int = 1000):
    table = pa.table({"id": [f"r{i}" for i in range(rows)], "text": [f"row {i} " * 20 for i in range(rows)]})
    pq.write_table(table, path, row_group_size=group, data_page_size=4096, compression="none", use_dictionary=False)
    column = pq.ParquetFile(path).metadata.row_group(1).column(1)
    data = bytearray(path.read_bytes())
    at = column.data_page_offset + column.total_compressed_size * 2 // 3  # a page in the middle of group 1
    data[at:at + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def test_damaged_parquet_names_row_group_and_first_bad_row(tmp_path):
    path = tmp_path / "damaged.parquet"
    _damaged_parquet(path)
    with pytest.raises(InputError) as caught:
        for _ in iter_rows([path]):
            pass
    error = caught.value
    assert "row group 1 (rows 1001-2000)" in str(error)
    # The bad page starts well inside the group, not at the group's (or a 512-row batch's) first row.
    assert 1001 < error.row <= 2000 and error.row not in (1001, 1513)
    assert f"first unreadable row {error.row}" in str(error)


def test_filter_on_damaged_parquet_is_one_line_exit_2(tmp_path):
    path = tmp_path / "damaged.parquet"
    _damaged_parquet(path)
    result = CliRunner().invoke(app, ["filter", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "row group 1" in result.output


def test_filter_help_fits_80_columns_without_cut_flag_names():
    result = CliRunner().invoke(app, ["filter", "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    for flag in ("--minhash-threshold", "--semantic-threshold", "--decontam-threshold", "--decontam-window",
                 "--max-per-answer", "--strict", "--no-decontam-embedding", "--decontam-embedding"):
        assert flag in result.output, flag


def test_minhash_threshold_picks_bands_whose_curve_splits_there():
    for threshold in (0.3, 0.5, 0.7, 0.9):
        bands, rows = lsh_shape(threshold)
        assert bands * rows <= 96
        assert collision_probability(threshold - 0.2, bands, rows) < 0.5 < collision_probability(threshold + 0.1, bands, rows)
    assert MinhashOptions.for_threshold(0.5) == MinhashOptions()  # the dataclass defaults are the CLI's
    assert MinhashOptions.for_threshold(0.5, buckets=20, hashes=4).buckets == 20


@pytest.mark.slow  # four dedup stages through datatrove
def test_default_minhash_catches_a_ten_percent_word_drop(tmp_path):
    words = ("the compiler translates each source file into an object file and the linker then joins "
             "the object files with the runtime library into one executable that the loader maps into "
             "memory before the program starts").split()
    dropped = [w for i, w in enumerate(words) if i % 10 != 4]  # 10% of the words gone
    other = "a completely different record about sailing boats on a lake in the summer with friends".split()
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": " ".join(words)},
                                              {"id": "b", "text": " ".join(dropped)},
                                              {"id": "c", "text": " ".join(other)}])
    out = tmp_path / "out"
    summary = run("filter", str(src), "--out", str(out), "--filters", "none", "--dedup", "minhash")
    assert kept_ids(out) == ["a", "c"] and summary["counts"]["rejected_by_reason"] == {"duplicate_minhash": 1}


def test_torch_blockwise_search_matches_faiss_flat():
    """The GPU path's exact search (run here on CPU tensors, tiny blocks so several merge) finds the same
    neighbours as FAISS's exact index."""
    import numpy as np
    from synth.filters import ann

    rng = np.random.default_rng(0)
    data = rng.standard_normal((500, 32)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    index = ann.TorchFlat(data, batch=128, device="cpu")
    index.ROW_BLOCK, index.QUERY_BLOCK = 96, 64
    sims, ids = ann.search(index, data[:200], 5)
    ref_sims, ref_ids = ann.search(ann.build(data, "flat"), data[:200], 5)
    assert (ids[:, 0] == np.arange(200)).all()
    assert (ids == ref_ids).mean() > 0.97  # float16 ties may swap near-equal neighbours
    assert np.abs(sims - ref_sims).max() < 2e-3


@pytest.mark.slow  # four dedup stages through datatrove
def test_shared_boilerplate_does_not_chain_distinct_records_into_one_cluster(tmp_path):
    import random

    rng = random.Random(0)
    vocabulary = [f"word{i}" for i in range(3000)]
    header = ("This entry is reproduced from the shared online glossary and is licensed to everyone under the "
              "terms of the free documentation license of the project.")
    footer = "Report errors through the website; every entry is reviewed by the community before it is published."
    rows = [{"id": f"r{i}", "text": f"{header} {' '.join(rng.choices(vocabulary, k=40))} {footer}"} for i in range(60)]
    rows.append({"id": "copy", "text": rows[0]["text"].upper()})
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    summary = run("filter", str(src), "--out", str(out), "--filters", "none", "--dedup", "minhash")
    assert summary["counts"]["rejected_by_reason"] == {"duplicate_minhash": 1}
    assert "copy" not in kept_ids(out) or "r0" not in kept_ids(out)
