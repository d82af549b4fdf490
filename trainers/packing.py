"""Packing variable-length samples into fixed-length rows without cross-contamination.

Every row holds whole samples (never split) plus one padding segment, so shapes stay constant (no
recompiles) and each sample sees only itself: positions restart at 0 and attention is block-diagonal
(cu_seqlens for the varlen kernel, a document mask for flex/sdpa). Rows come from first-fit-decreasing
over a shuffled order (near-perfect fill, deterministic in the seed); the row order is then shuffled.
Items are single samples (sft) or chosen+rejected pairs (dpo, rm), which must share a row because the
pair loss needs both sides in one graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from synth.trainers.render import Sample


def first_fit_decreasing(lengths: np.ndarray, order: np.ndarray, capacity: int) -> list[list[int]]:
    """Bins of item indices; items visited longest first (ties in `order`), each into the first bin that fits."""
    items = sorted(order.tolist(), key=lambda i: -int(lengths[i]))  # stable: ties keep the shuffled order
    size = 1
    while size < max(1, len(items)):
        size *= 2
    tree = np.zeros(2 * size, dtype=np.int64)  # max remaining capacity per subtree; bin b is leaf size + b
    bins: list[list[int]] = []
    for item in items:
        need = int(lengths[item])
        if tree[1] >= need:
            node = 1
            while node < size:  # descend to the leftmost bin with room
                node = 2 * node if tree[2 * node] >= need else 2 * node + 1
            b = node - size
        else:
            b = len(bins)
            bins.append([])
            node = size + b
            tree[node] = capacity
        bins[b].append(item)
        tree[node] -= need
        node //= 2
        while node:
            tree[node] = max(tree[2 * node], tree[2 * node + 1])
            node //= 2
    return bins


def plan_rows(lengths: list[int], capacity: int, epochs: float, seed: int) -> list[list[int]]:
    """Rows (lists of item indices) for `epochs` passes; a fractional last epoch takes a random subset."""
    n, rows = len(lengths), []
    arr = np.asarray(lengths, dtype=np.int64)
    for epoch in range(max(1, math.ceil(epochs))):
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(n)
        share = epochs - epoch
        if share < 1:
            order = order[: max(1, round(share * n))]
        bins = first_fit_decreasing(arr, order, capacity)
        rows += [bins[i] for i in rng.permutation(len(bins))]
    return rows


@dataclass
class Row:
    """One packed row as numpy arrays; `slots[k]` is the k-th sample's index in the item list of the row."""

    ids: np.ndarray        # int64 [T]
    positions: np.ndarray  # int64 [T], restarting at 0 per sample
    targets: np.ndarray    # int64 [T], next token inside the sample (0 where unused)
    weights: np.ndarray    # float32 [T], loss weight of each target (0: no loss)
    seq_ids: np.ndarray    # int32 [T], sample number; padding is its own segment
    cu_seqlens: np.ndarray  # int32 [segments + 1]
    last: np.ndarray       # int64 [samples], position of each sample's last token
    real_tokens: int


def build_row(samples: list[Sample], capacity: int, pad_id: int) -> Row:
    lengths = [len(s) for s in samples]
    used = sum(lengths)
    if used > capacity:
        raise ValueError(f"row overflow: {used} > {capacity}")
    pad = capacity - used
    ids = np.full(capacity, pad_id, dtype=np.int64)
    positions = np.zeros(capacity, dtype=np.int64)
    targets = np.zeros(capacity, dtype=np.int64)
    weights = np.zeros(capacity, dtype=np.float32)
    seq_ids = np.full(capacity, len(samples), dtype=np.int32)
    start = 0
    for k, s in enumerate(samples):
        end = start + len(s)
        ids[start:end] = s.ids
        positions[start:end] = np.arange(len(s))
        targets[start:end - 1] = s.ids[1:]
        weights[start:end] = s.weights
        weights[end - 1] = 0.0  # the last token has no next token inside its sample
        seq_ids[start:end] = k
        start = end
    positions[used:] = np.arange(pad)
    bounds = np.cumsum([0] + lengths + ([pad] if pad else []))
    last = np.cumsum(lengths) - 1
    return Row(ids, positions, targets, weights, seq_ids, bounds.astype(np.int32), last.astype(np.int64), used)
