"""Context parallelism: one packed row split over P ranks by tokens, attention by all-to-all (DeepSpeed-Ulysses).

A row of T tokens is cut into P contiguous slices; each rank runs embeddings, norms, MLPs and the loss head on
its T/P tokens only, so activation memory per GPU falls by P (the point: 256k-token rows on several GPUs).
Attention needs every token of a document, so around it two all-to-alls swap the split: before, each rank
trades its T/P tokens of all heads for all T tokens of H/P heads; the packed-row kernel (varlen, flex or sdpa,
with the row's global cu_seqlens / document ids) runs unchanged on those heads; after, the inverse swap. The
collectives are autograd functions, so the backward sends gradients the same way in reverse. Each rank's loss
is its slice's share of the step loss; gradients summed over the group (the FSDP2 reduce-scatter) are
exactly the single-rank gradients.

Query heads must divide by P; key/value heads either divide by P or are repeated up to P (GQA with fewer
KV heads than ranks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Group:
    """This rank's context-parallel group."""

    size: int
    rank: int
    handle: object = None  # torch.distributed ProcessGroup


def new_groups(world: int, rank: int, size: int) -> Group | None:
    """Split the world into consecutive groups of `size` ranks (every rank must call this); None when size 1."""
    if size <= 1:
        return None
    import torch.distributed as dist

    if world % size:
        raise ValueError(f"--context-parallel {size} must divide the {world} ranks")
    mine = None
    for first in range(0, world, size):
        handle = dist.new_group(list(range(first, first + size)))
        if first <= rank < first + size:
            mine = Group(size, rank - first, handle)
    return mine


def slice_row(row, group: Group):
    """This rank's token slice of a packed row: per-token arrays cut, the document layout (seq_ids,
    cu_seqlens) kept whole for the attention mask."""
    from synth.trainers.packing import Row

    t = row.ids.shape[0]
    if t % group.size:
        raise ValueError(f"--seq-len {t} must be a multiple of --context-parallel {group.size}")
    lo, hi = group.rank * t // group.size, (group.rank + 1) * t // group.size
    real = int(np.count_nonzero(row.seq_ids[lo:hi] < row.last.shape[0]))
    return Row(row.ids[lo:hi], row.positions[lo:hi], row.targets[lo:hi], row.weights[lo:hi], row.seq_ids,
               row.cu_seqlens, row.last, real)


def _all_to_all(x: torch.Tensor, group: Group) -> torch.Tensor:
    """Chunk i of dim 0 goes to rank i; chunk i of the result came from rank i (differentiable)."""
    from torch.distributed.nn.functional import all_to_all_single

    x = x.contiguous()
    return all_to_all_single(torch.empty_like(x), x, group=group.handle)


def expand_kv(x: torch.Tensor, group: Group) -> torch.Tensor:
    """[1, Hkv, t, D] with Hkv < P: repeat each head so every rank gets one (grouped-query order kept)."""
    heads = x.shape[1]
    if heads % group.size == 0:
        return x
    if group.size % heads:
        raise ValueError(f"{heads} key/value heads cannot be split over {group.size} context-parallel ranks")
    return x.repeat_interleave(group.size // heads, dim=1)


def heads_to_sequence(x: torch.Tensor, group: Group) -> torch.Tensor:
    """[1, H, T/P, D] (all heads, my tokens) -> [1, H/P, T, D] (my heads, all tokens)."""
    _, heads, t, d = x.shape
    if heads % group.size:
        raise ValueError(f"{heads} attention heads cannot be split over {group.size} context-parallel ranks")
    out = _all_to_all(x[0].view(group.size, heads // group.size, t, d), group)  # [P(source), H/P, t, D]
    return out.permute(1, 0, 2, 3).reshape(heads // group.size, group.size * t, d)[None]


def sequence_to_heads(x: torch.Tensor, group: Group) -> torch.Tensor:
    """[1, T, H/P, D] (attention output of my heads) -> [1, T/P, H, D] (all heads, my tokens)."""
    _, total, h, d = x.shape
    t = total // group.size
    out = _all_to_all(x[0].view(group.size, t, h, d), group)  # [P(source head group), t, H/P, D]
    return out.permute(1, 0, 2, 3).reshape(t, group.size * h, d)[None]
