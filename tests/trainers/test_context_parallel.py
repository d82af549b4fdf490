"""Context parallelism (all-to-all attention over ranks) gives the single-rank loss and gradients (CPU, gloo)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from synth.trainers import context_parallel as C
from synth.trainers import loop, objectives
from synth.trainers.model import PackedLM, build_hf
from synth.trainers.packing import build_row
from synth.trainers.render import Sample

SEQ_LEN = 384


def tiny_config(heads: int, kv_heads: int) -> dict:
    return {"model_type": "llama", "hidden_size": 64 * heads, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": heads, "num_key_value_heads": kv_heads, "head_dim": 64, "vocab_size": 97,
            "max_position_embeddings": 1024, "rms_norm_eps": 1e-5, "tie_word_embeddings": False}


def samples() -> list[Sample]:
    """Documents of uneven lengths, so document boundaries fall inside and across the rank slices."""
    rng = np.random.default_rng(7)
    out = []
    for length in (101, 57, 150, 40):
        weights = (rng.random(length) < 0.6).astype(np.float32)
        weights[-1] = 0.0
        out.append(Sample(rng.integers(1, 97, length).astype(np.int32), weights))
    return out


def loss_and_grads(model: PackedLM, row) -> tuple[float, dict[str, torch.Tensor]]:
    norm = float(sum((s.weights > 0).sum() for s in samples()))
    batch = loop.batch_from_row(row, torch.device("cpu"), [0], {})
    loss, _ = model(batch, objectives.sft, 1.0 / norm)
    loss.backward()
    return loss.detach(), {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def build(config: dict) -> PackedLM:
    hf = build_hf("sft", None, config, seed=3, device=torch.device("cpu")).to(torch.float64)
    return PackedLM(hf, "sdpa", None)


def worker(rank: int, world: int, store: str, config: dict, result: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        model = build(config)
        model.cp = C.new_groups(world, rank, world)
        row = C.slice_row(build_row(samples(), SEQ_LEN, 0), model.cp)
        loss, grads = loss_and_grads(model, row)
        dist.all_reduce(loss)  # each rank holds its slice's share of the loss and of every gradient
        for g in grads.values():
            dist.all_reduce(g)
        if rank == 0:
            torch.save({"loss": loss, "grads": grads}, result)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow  # spawned processes importing torch + transformers
@pytest.mark.parametrize(("world", "heads", "kv_heads"), [(2, 2, 1), (2, 4, 2)])
def test_context_parallel_matches_single_rank(tmp_path, world, heads, kv_heads):
    import torch.multiprocessing as mp

    config = tiny_config(heads, kv_heads)
    ref_loss, ref_grads = loss_and_grads(build(config), build_row(samples(), SEQ_LEN, 0))
    result = tmp_path / "cp.pt"
    mp.spawn(worker, args=(world, str(tmp_path / "store"), config, str(result)), nprocs=world, join=True)
    got = torch.load(result)
    assert got["loss"].item() == pytest.approx(ref_loss.item(), rel=1e-12)
    assert got["grads"].keys() == ref_grads.keys()
    for name, ref in ref_grads.items():
        torch.testing.assert_close(got["grads"][name], ref, rtol=1e-9, atol=1e-12, msg=name)


def test_slice_row_keeps_the_document_layout():
    row = build_row(samples(), SEQ_LEN, 0)
    parts = [C.slice_row(row, C.Group(3, r)) for r in range(3)]
    assert np.array_equal(np.concatenate([p.ids for p in parts]), row.ids)
    assert np.array_equal(np.concatenate([p.weights for p in parts]), row.weights)
    assert all(p.seq_ids is row.seq_ids and p.cu_seqlens is row.cu_seqlens for p in parts)
    assert sum(p.real_tokens for p in parts) == row.real_tokens
    with pytest.raises(ValueError, match="multiple"):
        C.slice_row(row, C.Group(5, 0))
