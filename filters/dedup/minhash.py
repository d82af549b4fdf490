"""MinHash near-duplicate detection with datatrove's MinHash stages (signatures, LSH buckets, clusters).

We keep datatrove's stages 1-3 and replace its stage 4 (which drops all but the union-find root of a
cluster) with our decide stage, which applies the keep-one policy and names the kept twin. One override:
`get_shingles`. datatrove 0.10's default hash (`xxhash64` on `str`) raises under xxhash>=4 ("Strings must
be encoded before hashing") and its English word tokenizer needs spaCy; ours encodes to UTF-8, tokenizes
like decontamination (CJK characters are words), and lets a text shorter than one n-gram be one shingle,
so short questions still collide with their exact copies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupCluster, MinhashDedupSignature
from datatrove.utils.text import TextNormConfig, simplify_text
from synth.filters.text import SimpleWordTokenizer

INDEX_FILE_BASE = 100_000  # file ids of linked index runs (current tasks are 0..99_999)
FULL_SIGNATURES = "full"
VERIFY_MARGIN = 0.1  # estimated Jaccard (95 hashes: standard error ~0.05 at 0.5) may fall this far below J


# Defaults from the precision/recall curve of bench/dedup_quality.py (docs/benchmarks.md, issue 23): 3-word
# shingles at Jaccard 0.5 caught 0.9+ of word drops, truncations, reorders, affixes and re-casings with no
# boilerplate-sharing negative flagged; 5-grams lose most single-word edits (every drop breaks 5 shingles).
DEFAULT_NGRAMS = 3
DEFAULT_THRESHOLD = 0.5
HASH_BUDGET = 96  # hashes per record: signature time grows with it; 96 puts the S-curve's knee within ~0.05 of J


@dataclass(frozen=True)
class MinhashOptions:
    n_grams: int = DEFAULT_NGRAMS
    buckets: int = 19   # = lsh_shape(DEFAULT_THRESHOLD)
    hashes: int = 5
    seed: int = 1
    threshold: float = DEFAULT_THRESHOLD  # candidate pairs are verified against it (VerifyPairs)

    @classmethod
    def for_threshold(cls, threshold: float, n_grams: int = DEFAULT_NGRAMS, buckets: int = 0, hashes: int = 0):
        """Options whose LSH bands split at Jaccard `threshold`; explicit bands / hashes per band win."""
        derived = lsh_shape(threshold)
        return cls(n_grams, buckets or derived[0], hashes or derived[1], threshold=threshold)

    def config(self) -> MinhashConfig:
        # Numbers stay: "won in 1998" and "won in 2002" are different questions.
        return MinhashConfig(n_grams=self.n_grams, num_buckets=self.buckets, hashes_per_bucket=self.hashes,
                             seed=self.seed, norm_config=TextNormConfig(norm_numbers=False))


def lsh_shape(threshold: float, budget: int = HASH_BUDGET) -> tuple[int, int]:
    """(bands, hashes per band) whose LSH S-curve P(s) = 1 - (1 - s^r)^b best splits at Jaccard `threshold`:
    the least false-positive plus false-negative area (datasketch's rule) with at most `budget` hashes."""
    s = np.linspace(0.0, 1.0, 1001)
    below = s < threshold
    best, shape = np.inf, (1, 1)
    for rows in range(1, budget + 1):
        bands = budget // rows
        p = 1.0 - (1.0 - s**rows) ** bands
        error = np.trapezoid(np.where(below, p, 0.0), s) + np.trapezoid(np.where(below, 0.0, 1.0 - p), s)
        if error < best - 1e-12:
            best, shape = error, (bands, rows)
    return shape


def collision_probability(jaccard, bands: int, rows: int):
    """Chance that two records of this Jaccard similarity share at least one LSH band."""
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=float) ** rows) ** bands


class MinhashSignature(MinhashDedupSignature):
    name = "🎯 MinHash signatures"

    def __init__(self, output_folder: str, options: MinhashOptions):
        super().__init__(output_folder, config=options.config(), language=SimpleWordTokenizer())
        self.full_folder = Path(output_folder) / FULL_SIGNATURES
        self._doc, self._full = -1, None

    def run(self, data, rank: int = 0, world_size: int = 1):
        """datatrove's signature pass, also keeping each record's whole signature (low 32 bits of every
        hash, row = record index) for VerifyPairs."""
        self.full_folder.mkdir(parents=True, exist_ok=True)
        path = self.full_folder / f"{rank:05d}.sig"
        self._doc = -1
        with open(path, "r+b" if path.exists() else "wb") as self._full:
            return super().run(data, rank, world_size)

    def get_signature(self, shingles: np.ndarray) -> list[list[int]]:
        bands = super().get_signature(shingles)
        if self._full is not None:
            flat = np.asarray(bands, dtype=np.uint64).ravel().astype(np.uint32)
            self._full.seek(self._doc * flat.nbytes)
            self._full.write(flat.tobytes())
        return bands

    def get_shingles(self, text: str) -> np.ndarray:
        self._doc += 1  # datatrove shingles every record once, in order: this is its index in the task
        tokens = self.word_tokenizer.word_tokenize(simplify_text(text, self.config.norm_config))
        n = self.config.n_grams
        grams = [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)] or ([" ".join(tokens)] if tokens else [])
        hashes = (xxhash.xxh64_intdigest(g.encode("utf-8")) for g in grams)
        return np.fromiter(hashes, dtype=np.uint64, count=len(grams)).reshape((-1, 1))


def sig_dtype(options: MinhashOptions, with_doc: bool = True) -> np.dtype:
    fields = [(f"h{i}", "<u8") for i in range(options.hashes)]
    return np.dtype(fields + ([("doc", "<u4")] if with_doc else []))


def read_clusters(folder: Path) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(file id, doc indices, cluster ids) from MinhashDedupCluster's `NNNNNN.clusters` files."""
    for path in sorted(Path(folder).glob("*.clusters")):
        pairs = np.fromfile(path, dtype="<u4").reshape(-1, 2)
        yield int(path.stem), pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def bucket_files(sig_folder: Path, bucket: int) -> list[Path]:
    return sorted((Path(sig_folder) / f"bucket_{bucket:03d}").glob("*.minhash.sig"))


def write_sorted(path: Path, records: np.ndarray) -> None:
    """Signatures sorted as datatrove's bucket stage requires (by hash tuple, then doc)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    records = np.sort(records, order=list(records.dtype.names))
    tmp = path.with_name(f".{path.name}.tmp")
    records.tofile(tmp)
    tmp.replace(path)


def _passthrough(iterable, **_):
    return iterable


class QuietCluster(MinhashDedupCluster):
    """datatrove's cluster stage without its tqdm bar on the user's terminal (stage progress is ours)."""

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        from datatrove.pipeline.dedup import minhash as module

        original, module.tqdm = module.tqdm, _passthrough
        try:
            return super().run(data, rank, world_size)
        finally:
            module.tqdm = original


class VerifyPairs(PipelineStep):
    """Drops LSH candidate pairs whose whole signatures agree on fewer than J - VERIFY_MARGIN of their hashes
    (the estimated Jaccard). Bands alone accept each weak pair with a small chance; with many records that
    share boilerplate, those chances chain into one connected cluster (bench/dedup_quality.py: 200 texts with
    a common header and footer, Jaccard ~0.2, became one cluster of 200). Pairs with an index run are kept:
    past runs keep no whole signatures."""

    name = "🎯 MinHash pair check"
    type = "🫂 - DEDUP"

    def __init__(self, sig_folder: str, dups_folder: str, options: MinhashOptions):
        super().__init__()
        self.sig_folder, self.dups_folder, self.options = Path(sig_folder), Path(dups_folder), options

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        minimum = self.options.threshold - VERIFY_MARGIN
        for path in sorted(self.dups_folder.glob(f"{rank:05d}_*.dups")):
            pairs = np.fromfile(path, dtype="<u4").reshape(-1, 4)
            keep = self._agreement(pairs) >= minimum
            self.stat_update("unverified_pairs", value=int((~keep).sum()))
            tmp = path.with_name(f".{path.name}.tmp")
            pairs[keep].tofile(tmp)
            os.replace(tmp, path)
        return
        yield  # a generator, as datatrove steps are

    def _agreement(self, pairs: np.ndarray) -> np.ndarray:
        """Share of equal hashes per pair; 1.0 (kept) for pairs that involve an index run."""
        found = np.ones(len(pairs))
        local = (pairs[:, 0] < INDEX_FILE_BASE) & (pairs[:, 2] < INDEX_FILE_BASE)
        width = self.options.buckets * self.options.hashes
        sigs = {}
        for f1, f2 in {(int(a), int(b)) for a, b in pairs[local][:, [0, 2]]}:
            for f in (f1, f2):
                if f not in sigs:
                    sigs[f] = np.memmap(self.sig_folder / FULL_SIGNATURES / f"{f:05d}.sig", dtype=np.uint32, mode="r").reshape(-1, width)
            rows = np.flatnonzero(local & (pairs[:, 0] == f1) & (pairs[:, 2] == f2))
            found[rows] = (sigs[f1][pairs[rows, 1]] == sigs[f2][pairs[rows, 3]]).mean(axis=1)
        return found
