"""Issue 28, points 3 and 7: one writer per corpus --out; invalid UTF-8 and oversized rows are per-row rejects."""

import json

import polars as pl

from synth import state
from tests.core.helpers import synth
from tests.env.helpers import write_jsonl


def _source(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl")
    with open(path, "ab") as fh:
        fh.write(b'{"id": "bad", "title": "Bad \xff\xfe", "text": "not utf-8"}\n')
        fh.write(json.dumps({"id": "huge", "title": "Huge", "text": "x " * 6000}).encode() + b"\n")
    return path


def test_invalid_utf8_and_oversized_rows_are_rejects_not_the_end(tmp_path):
    out = tmp_path / "corpus"
    res = synth("corpus", "build", str(_source(tmp_path)), "--out", str(out), "--no-dense", "--json",
                "--max-doc-bytes", "10000")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["documents"] == 17 and summary["rejected"] == 2
    rejects = pl.read_parquet(out / "rejects" / "*.parquet").to_dicts()
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons == ["doc_too_large", "invalid_utf8"]
    where = {r["reason"]: json.loads(r["record"])["where"] for r in rejects}
    assert where == {"invalid_utf8": f"{tmp_path / 'docs.jsonl'}:18", "doc_too_large": f"{tmp_path / 'docs.jsonl'}:19"}


def test_second_build_on_one_out_exits_2_naming_the_holder(tmp_path):
    out = tmp_path / "corpus"
    (out / ".synth").mkdir(parents=True)
    with state.writer_lock(out):  # this test process is the first writer
        res = synth("corpus", "build", str(_source(tmp_path)), "--out", str(out), "--no-dense")
    assert res.returncode == 2
    assert "another synth process" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_bm25_tokenizes_a_long_document_in_pieces_with_the_same_tokens():
    import numpy as np

    from synth.env.bm25 import PARAMS, _pieces, _tokenized_docs, _tokenizer

    # (A "word" longer than a piece, here 100 characters, is the one thing cut differently; pieces are 1 MiB.)
    texts = ["", "alpha beta gamma delta " * 500, "short doc", "Pascal and Oberon, by Wirth. " * 40]
    assert all("".join(_pieces(t, 100)) == t for t in [*texts, "x" * 2500])
    whole_tok, piece_tok = _tokenizer(PARAMS), _tokenizer(PARAMS)
    whole = [np.asarray(d, dtype=np.int32) for d in whole_tok.streaming_tokenize(texts, update_vocab=True)]
    pieced = list(_tokenized_docs(piece_tok, texts, piece_chars=100))
    assert len(pieced) == len(whole) and all(np.array_equal(a, b) for a, b in zip(whole, pieced))
    assert whole_tok.get_vocab_dict() == piece_tok.get_vocab_dict()
