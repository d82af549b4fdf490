"""Candidates grouped by prompt, in bounded memory: the work items of `synth judge pairwise`.

A tournament needs every candidate of a prompt at once, and candidates of one prompt need not be adjacent
(`synth judge pairwise teacherA/ teacherB/`). An external group-by does it in memory bounded by a bucket:
  1. stream the inputs; each candidate goes to bucket hash(prompt id) % B as one JSON line
     (B = rows / BUCKET_ROWS, so a bucket holds ~BUCKET_ROWS candidates whatever the input size);
  2. group each bucket in memory; its groups, ordered by their first row, go to one file per bucket;
  3. merge the bucket files by first row (heapq.merge: one line per bucket in memory) into groups.jsonl
     plus an offsets file (8 bytes per group), so work item i is one seek away.
Groups come out in order of their first candidate in the inputs; candidates in input order. The folder is
keyed by the inputs' hashes and published complete (one rename), so a resumed run reuses it.
"""

from __future__ import annotations

import heapq
import os
import shutil
from array import array
from contextlib import ExitStack
from pathlib import Path

BUCKET_ROWS = 20_000


def _write_line(fh, value) -> int:
    import orjson

    data = orjson.dumps(value) + b"\n"
    fh.write(data)
    return len(data)


def _bucketize(inputs: list[str], folder: Path, buckets: int) -> None:
    import orjson
    import xxhash
    from synth.pipelines.judge.candidates import candidate_of

    from synth.dataset import iter_rows
    from synth.errors import InputError

    with ExitStack() as stack:
        handles = [stack.enter_context(open(folder / f"bucket-{b:05d}.jsonl", "wb")) for b in range(buckets)]
        for position, row in enumerate(iter_rows(inputs)):
            candidate = candidate_of(row.record)
            if isinstance(candidate, str):  # check_inputs ran first: the inputs changed under us
                raise InputError(row.path, row.row, candidate, field="messages")
            bucket = xxhash.xxh64_intdigest(candidate.prompt_id.encode("utf-8")) % buckets
            handles[bucket].write(orjson.dumps([position, candidate.to_dict()]) + b"\n")


def _group_bucket(path: Path) -> Path:
    """One bucket's candidates grouped by prompt id, groups ordered by first row: [first_row, group] lines."""
    import orjson

    groups: dict[str, list] = {}
    with open(path, "rb") as fh:
        for line in fh:
            position, candidate = orjson.loads(line)
            groups.setdefault(candidate["prompt_id"], [position, []])[1].append(candidate)
    target = path.with_suffix(".groups")
    with open(target, "wb") as fh:
        for first, members in groups.values():
            _write_line(fh, [first, group_record(members)])
    path.unlink()
    return target


def group_record(members: list[dict]) -> dict:
    """The work item of one prompt; candidate ids made unique within it (two inputs may reuse ids)."""
    seen: dict[str, int] = {}
    for member in members:
        seen[member["id"]] = seen.get(member["id"], 0) + 1
        if seen[member["id"]] > 1:
            member["id"] = f"{member['id']}#{seen[member['id']]}"
    head = members[0]
    return {"id": head["prompt_id"], "prompt": head["prompt"], "candidates": members}


def _merge(parts: list[Path], folder: Path) -> int:
    import orjson

    def lines(path: Path):
        with open(path, "rb") as fh:
            for line in fh:
                yield orjson.loads(line)

    offsets, position = array("Q"), 0
    with open(folder / "groups.jsonl", "wb") as out:
        for _, group in heapq.merge(*(lines(p) for p in parts), key=lambda item: item[0]):
            offsets.append(position)
            position += _write_line(out, group)
    with open(folder / "offsets.bin", "wb") as fh:
        offsets.tofile(fh)
    for part in parts:
        part.unlink()
    return len(offsets)


def group_inputs(inputs: list[str], folder: Path, rows: int) -> int:
    """Group the candidates of `inputs` (`rows` of them, already checked) into `folder`; returns the groups.
    Built in a private folder and published with one rename, so a concurrent or killed run never leaves a
    half-written `folder` behind (the loser of a race drops its copy and reads the winner's: same content)."""
    folder = Path(folder)
    if (folder / "done").is_file():
        return int((folder / "done").read_text())
    work = folder.with_name(f".{folder.name}.{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    buckets = max(1, -(-rows // BUCKET_ROWS))
    _bucketize(inputs, work, buckets)
    parts = [_group_bucket(work / f"bucket-{b:05d}.jsonl") for b in range(buckets)]
    count = _merge(parts, work)
    (work / "done").write_text(str(count))
    try:
        os.rename(work, folder)
    except OSError:  # published meanwhile by another run of the same command
        shutil.rmtree(work, ignore_errors=True)
        if not (folder / "done").is_file():
            raise
    return count


class GroupReader:
    """Job.make_item: group i of a grouped folder (picklable; files opened lazily in the worker)."""

    def __init__(self, folder: str | Path):
        self.folder = str(folder)
        self._groups = self._offsets = None

    def __getstate__(self) -> dict:
        return {"folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        self.folder, self._groups, self._offsets = state["folder"], None, None

    def __call__(self, index: int) -> dict:
        import orjson

        if self._groups is None:  # kept open across calls: the source asks for items in order, one by one
            self._groups = open(Path(self.folder) / "groups.jsonl", "rb")  # noqa: SIM115
            self._offsets = open(Path(self.folder) / "offsets.bin", "rb")  # noqa: SIM115
        self._offsets.seek(8 * index)
        (offset,) = array("Q", self._offsets.read(8))
        self._groups.seek(offset)
        return orjson.loads(self._groups.readline())
