"""MinHash stages 1 and 2 at corpus scale: datatrove's signature values and bucket-file layout, computed a
batch of records at a time, and LSH band matching sharded on disk, so neither stage's memory depends on
how many records a run has.

datatrove's own stage 1 hashes one record at a time and packs 19 structs per record (~0.5 ms per short
record: 80 of the 128 s of a 150k-record run), then sorts each bucket file in memory; its stage 2 merges
the sorted files with a Python heap (one pop per record per band). Here:

    sign      permutations of a whole batch's shingles in one numpy expression, minima per record by
              `minimum.reduceat`; bucket files appended unsorted; each record's whole signature kept as
              the low 16 bits of every hash (`full/RRRRR.sig`) for the pair check
    bands     task = band: band keys (the band's hashes mixed into one 64-bit key) streamed from the bucket
              files in chunks and split by their top bits into shards of at most SHARD_ROWS entries on
              disk; each shard sorted alone; equal neighbours are candidate pairs, checked at once against
              the whole signatures the entries carry; datatrove's `.dups` format out
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import numpy as np
from datatrove.pipeline.base import PipelineStep
from synth.filters.dedup.minhash import (
    FULL_SIGNATURES,
    INDEX_FILE_BASE,
    VERIFY_MARGIN,
    MinhashOptions,
    MinhashSignature,
    bucket_files,
    sig_dtype,
)

SHINGLES_PER_BATCH = 16_384  # (shingles x hashes) uint64 products per batch: ~12 MB at 95 hashes
RECORDS_PER_BATCH = 1024
SHARD_ROWS = 1 << 16         # band entries sorted at once (~13 MB with their signatures)
CHUNK_ROWS = 1 << 16         # bucket-file rows read at once
MAX_SHARD_BITS = 12          # at most 4,096 shard files open per band
MERSENNE = np.uint64((1 << 61) - 1)
MIX = np.uint64(0x9E3779B97F4A7C15)


def full_path(sig_folder: Path, task: int) -> Path:
    return Path(sig_folder) / FULL_SIGNATURES / f"{task:05d}.sig"


class BatchedSignature(MinhashSignature):
    """Stage 1: the same signatures as datatrove's (same permutations, same uint64 arithmetic, same files),
    a batch at a time."""

    def __init__(self, output_folder: str, options: MinhashOptions):
        super().__init__(output_folder, options)
        self.sig_folder, self.options = Path(output_folder), options
        self.full_folder = self.sig_folder / FULL_SIGNATURES

    def run(self, data, rank: int = 0, world_size: int = 1):
        folders = [self.sig_folder / f"bucket_{b:03d}" for b in range(self.options.buckets)]
        for folder in [*folders, self.full_folder]:
            folder.mkdir(parents=True, exist_ok=True)
        outs = [open(f / f"{rank:05d}.minhash.sig", "wb") for f in folders]  # noqa: SIM115
        full = open(full_path(self.sig_folder, rank), "wb")  # noqa: SIM115
        with self.track_time():
            batch, shingles, first = [], 0, 0
            for doc in data:
                self.stat_update("total")
                batch.append(self.get_shingles(doc.text))
                shingles += len(batch[-1])
                if shingles >= SHINGLES_PER_BATCH or len(batch) >= RECORDS_PER_BATCH:
                    self._write(batch, first, outs, full)
                    first, batch, shingles = first + len(batch), [], 0
            self._write(batch, first, outs, full)
        for fh in [*outs, full]:
            fh.close()
        return
        yield  # a generator, as datatrove steps are

    def signatures(self, batch: list[np.ndarray]) -> np.ndarray:
        """(records with shingles, hashes) minima, datatrove's `get_signature` for each record at once."""
        a = self.parameters[0]
        sizes = np.array([len(s) for s in batch])
        flat = np.concatenate([s for s in batch if len(s)]).reshape(-1, 1)
        starts = np.r_[0, np.cumsum(sizes[sizes > 0])[:-1]]
        out = np.empty((len(starts), a.shape[1]), dtype=np.uint64)
        lo = 0  # slices of whole records (or of one long record) keep the product matrix small
        while lo < len(starts):
            hi = max(lo + 1, int(np.searchsorted(starts, starts[lo] + SHINGLES_PER_BATCH, "right")) - 1)
            end = starts[hi] if hi < len(starts) else len(flat)
            out[lo:hi] = self._minima(flat[starts[lo]:end], starts[lo:hi] - starts[lo])
            lo = hi
        return out

    def _minima(self, shingles: np.ndarray, starts: np.ndarray) -> np.ndarray:
        a, b = self.parameters
        if len(starts) == 1 and len(shingles) > SHINGLES_PER_BATCH:  # one long record: its minimum by parts
            parts = [self._minima(shingles[i:i + SHINGLES_PER_BATCH], np.zeros(1, np.int64))
                     for i in range(0, len(shingles), SHINGLES_PER_BATCH)]
            return np.minimum.reduce(parts)
        with np.errstate(over="ignore"):
            phv = shingles * a  # wraps at 2^64, as datatrove's does
            phv += b
        phv = mod_mersenne(phv)
        if self.config.hash_config.precision == 32:
            phv &= np.uint64(self.config.hash_config.max)
        return np.minimum.reduceat(phv, starts, axis=0)

    def _write(self, batch: list[np.ndarray], first: int, outs: list, full) -> None:
        if not batch:
            return
        has = np.array([len(s) > 0 for s in batch])
        sigs = self.signatures(batch) if has.any() else np.zeros((0, self.num_hashes), np.uint64)
        docs = first + np.flatnonzero(has)
        rows, dtype = self.options.hashes, sig_dtype(self.options)
        for band, out in enumerate(outs):
            records = np.empty(len(docs), dtype=dtype)
            for j in range(rows):
                records[f"h{j}"] = sigs[:, band * rows + j]
            records["doc"] = docs
            out.write(records.tobytes())
        whole = np.zeros((len(batch), self.num_hashes), np.uint16)  # a record without shingles: zeros
        whole[has] = sigs.astype(np.uint16)
        full.write(whole.tobytes())


def mod_mersenne(x: np.ndarray) -> np.ndarray:
    """x % (2^61 - 1) for uint64 x without a division: x = hi * 2^61 + lo = hi + lo (mod 2^61 - 1), and
    hi + lo < 2 * (2^61 - 1), so one conditional subtraction finishes it. In place."""
    hi = x >> np.uint64(61)
    x &= MERSENNE
    x += hi
    x -= np.where(x >= MERSENNE, MERSENNE, np.uint64(0))
    return x


def band_keys(records: np.ndarray, rows: int) -> np.ndarray:
    """One 64-bit key per record for its band's `rows` hashes (equal bands, equal keys; distinct bands
    collide with chance ~2^-64, and the pair check would drop such a pair anyway)."""
    key = np.zeros(len(records), np.uint64)
    with np.errstate(over="ignore"):
        for j in range(rows):
            key = (key ^ records[f"h{j}"]) * MIX
            key ^= key >> np.uint64(29)
    return key


class BandMatches(PipelineStep):
    """Stage 2 (task = band): candidate pairs of records whose band keys are equal, checked against their
    whole signatures, written as datatrove's `BBBBB_00.dups` (file, doc, file, doc). Pairs chain through
    equal keys as datatrove's heap merge does (each entry with the one before it)."""

    name = "🎯 MinHash bands"
    type = "🫂 - DEDUP"

    def __init__(self, sig_folder: str, dups_folder: str, options: MinhashOptions):
        super().__init__()
        self.sig_folder, self.dups_folder, self.options = Path(sig_folder), Path(dups_folder), options
        self.width = options.buckets * options.hashes
        self.entry = np.dtype([("key", "<u8"), ("file", "<u4"), ("doc", "<u4"), ("sig", "<u2", (self.width,))])

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        with self.track_time():
            files = bucket_files(self.sig_folder, rank)
            itemsize = sig_dtype(self.options).itemsize
            total = sum(f.stat().st_size // itemsize for f in files)
            bits = min(MAX_SHARD_BITS, max(0, math.ceil(math.log2(max(1, total) / SHARD_ROWS))))
            scratch = self.dups_folder / f".shards-{rank:05d}"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            self._partition(files, scratch, bits)
            self.dups_folder.mkdir(parents=True, exist_ok=True)
            target = self.dups_folder / f"{rank:05d}_00.dups"
            tmp = target.with_name(f".{target.name}.tmp")
            with open(tmp, "wb") as out:
                out.writelines(self._pairs(np.fromfile(scratch / f"{shard:05d}", dtype=self.entry)).tobytes() for shard in range(1 << bits))
            os.replace(tmp, target)
            shutil.rmtree(scratch)
        return
        yield  # a generator, as datatrove steps are

    def _partition(self, files: list[Path], scratch: Path, bits: int) -> None:
        shards = [open(scratch / f"{s:05d}", "wb") for s in range(1 << bits)]  # noqa: SIM115
        try:
            for path in files:
                file_id = int(path.name.split(".")[0])
                for entries in self._entries(path, file_id):
                    shard = (entries["key"] >> np.uint64(64 - bits)).astype(np.int64) if bits else np.zeros(len(entries), np.int64)
                    order = np.argsort(shard, kind="stable")
                    bounds = np.searchsorted(shard[order], np.arange((1 << bits) + 1))
                    for s in np.flatnonzero(np.diff(bounds)):
                        shards[s].write(entries[order[bounds[s]:bounds[s + 1]]].tobytes())
        finally:
            for fh in shards:
                fh.close()

    def _entries(self, path: Path, file_id: int):
        """Chunks of (band key, file, doc, whole signature) from one bucket file; index runs keep no whole
        signatures (zeros: their pairs are kept unchecked, as before)."""
        dtype = sig_dtype(self.options)
        full = full_path(self.sig_folder, file_id) if file_id < INDEX_FILE_BASE else None
        rows = path.stat().st_size // dtype.itemsize
        for lo in range(0, rows, CHUNK_ROWS):
            records = np.fromfile(path, dtype=dtype, count=min(CHUNK_ROWS, rows - lo), offset=lo * dtype.itemsize)
            entries = np.zeros(len(records), self.entry)
            entries["key"], entries["file"], entries["doc"] = band_keys(records, self.options.hashes), file_id, records["doc"]
            if full is not None and len(records):
                entries["sig"] = self._whole(full, records["doc"])
            yield entries

    def _whole(self, full: Path, docs: np.ndarray) -> np.ndarray:
        """Whole signatures of `docs` (ascending within a chunk: bucket files are written in record order)."""
        first, last = int(docs.min()), int(docs.max())
        block = np.fromfile(full, dtype=np.uint16, count=(last - first + 1) * self.width,
                            offset=first * self.width * 2).reshape(-1, self.width)
        return block[docs - first]

    def _pairs(self, entries: np.ndarray) -> np.ndarray:
        if len(entries) < 2:
            return np.zeros((0, 4), np.uint32)
        order = np.lexsort((entries["doc"], entries["file"], entries["key"]))
        keys = entries["key"][order]
        at = np.flatnonzero(keys[1:] == keys[:-1])
        left, right = entries[order[at]], entries[order[at + 1]]
        indexed = (left["file"] >= INDEX_FILE_BASE) | (right["file"] >= INDEX_FILE_BASE)
        agree = (left["sig"] == right["sig"]).mean(axis=1) if len(at) else np.zeros(0)
        keep = indexed | (agree >= self.options.threshold - VERIFY_MARGIN)
        self.stat_update("unverified_pairs", value=int((~keep).sum()))
        self.stat_update("total_matches", value=int(keep.sum()))
        left, right = left[keep], right[keep]
        return np.stack([left["file"], left["doc"], right["file"], right["doc"]], axis=1).astype(np.uint32)
