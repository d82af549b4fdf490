"""MinHash near-duplicate detection laid out as datatrove's MinHash stages (signatures, LSH buckets,
clusters): its signature values and file formats, computed at corpus scale by `lsh` (stages 1-2) and
`components` (stage 3); its stage 4 (which drops all but the union-find root of a cluster) is our decide
stage, which applies the keep-one policy and names the kept twin. One override:
`get_shingles`. datatrove 0.10's default hash (`xxhash64` on `str`) raises under xxhash>=4 ("Strings must
be encoded before hashing") and its English word tokenizer needs spaCy; ours encodes to UTF-8, tokenizes
like decontamination (CJK characters are words), and lets a text shorter than one n-gram be one shingle,
so short questions still collide with their exact copies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
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
    threshold: float = DEFAULT_THRESHOLD  # candidate pairs are verified against it (lsh.BandMatches)

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
    """datatrove's signature stage with our shingles; `lsh.BatchedSignature` runs it a batch at a time."""

    name = "🎯 MinHash signatures"

    def __init__(self, output_folder: str, options: MinhashOptions):
        super().__init__(output_folder, config=options.config(), language=SimpleWordTokenizer())
        # datatrove's `simplify_text` removes diacritics character by character (half the stage's time on
        # short English records); on ASCII text that pass cannot change anything, so it is skipped there
        self.ascii_config = dataclasses.replace(self.config.norm_config, norm_unicode_diacritics=False)

    def get_shingles(self, text: str) -> np.ndarray:
        config = self.ascii_config if text.isascii() else self.config.norm_config
        tokens = self.word_tokenizer.word_tokenize(simplify_text(text, config))
        n = self.config.n_grams
        grams = list(map(" ".join, zip(*(tokens[i:] for i in range(n))))) or ([" ".join(tokens)] if tokens else [])
        hashes = map(xxhash.xxh64_intdigest, map(str.encode, grams))  # UTF-8
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
