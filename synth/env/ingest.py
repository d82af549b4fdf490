"""Build passes 1-2: source stream -> staging -> data/documents.parquet + lookup/ (rows fixed here).

Pass 1 validates each `RawDoc`, stages it (parquet, batched) with its raw links, and fills the title
index; aliases become redirect rows after all sources rows, so an alias never shadows a real page.
Pass 2 resolves redirect targets to article ids, assigns rows (input order) and writes the final
documents table twice: parquet (the dataset contract) and an uncompressed Arrow IPC file that
`Corpus` memory-maps for O(1) lookups. Memory holds titles and ids, never texts.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from synth.env.layout import DOCS_SCHEMA, TITLES_SCHEMA, UNRESOLVED_SCHEMA, CorpusPaths, rejects_schema
from synth.env.records import RawDoc
from synth.env.titles import TitleIndex
from synth.env.writers import BatchWriter, iter_batches

STAGED_DOCS = DOCS_SCHEMA.append(pa.field("where", pa.string()))
STAGED_LINKS = UNRESOLVED_SCHEMA  # src id, target title, anchor, span


@dataclass
class Ingested:
    inputs: int = 0
    rejected: Counter = field(default_factory=Counter)
    titles: TitleIndex = field(default_factory=TitleIndex)
    rows: dict[str, int] = field(default_factory=dict)  # final id -> row
    articles: int = 0
    redirects: int = 0
    alias_collisions: int = 0
    docs_hash: str = ""


STEP = "corpus build"


def reject_row(where: str, doc_id: str, title: str, reason: str, detail: str) -> dict:
    """A row of the Foundation's reject schema; `record` keeps where the document came from."""
    return {"id": doc_id or "", "reason": reason, "detail": detail or None, "step": STEP,
            "record": json.dumps({"where": where, "title": title}, ensure_ascii=False), "raw": None}


class _Rejects:
    def __init__(self, paths: CorpusPaths, counter: Counter):
        self.path, self.counter, self.writer = paths.rejects, counter, None

    def add(self, doc: RawDoc, reason: str, detail: str = "") -> None:
        if self.writer is None:
            self.writer = BatchWriter(self.path, rejects_schema())
        self.counter[reason] += 1
        self.writer.add(reject_row(doc.where, doc.id, doc.title, reason, detail))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _problem(doc: RawDoc, ids: set[str], max_doc_bytes: int | None = None) -> tuple[str, str] | None:
    if doc.problem:
        return doc.problem
    if max_doc_bytes and len(doc.text) > max_doc_bytes // 4 and (size := utf8_size(doc.text)) > max_doc_bytes:
        return ("doc_too_large", f"text of {size} bytes over --max-doc-bytes {max_doc_bytes}")
    if not doc.id:
        return ("missing_id", "")
    if not doc.title.strip():
        return ("missing_title", "")
    if doc.id in ids:
        return ("duplicate_id", doc.id)
    if doc.redirect is None and (not doc.text or doc.text.isspace()):  # (strip() would copy a large page)
        return ("empty_text", "")
    if doc.redirect is not None and not doc.redirect.strip():
        return ("redirect_unresolved", "redirect without a target")
    return None


def utf8_size(text: str, piece: int = 1 << 20) -> int:
    """len(text.encode("utf-8")) without the encoded copy (a 20 MB page would make one)."""
    if text.isascii():
        return len(text)
    return sum(len(text[at: at + piece].encode("utf-8", "surrogatepass")) for at in range(0, len(text), piece))


def stage(source: Iterable[RawDoc], paths: CorpusPaths, tick: Callable[[int], None],
          max_doc_bytes: int | None = None) -> tuple[Ingested, dict]:
    """Pass 1. Returns the state and {redirect id: target title or ("id", article id)}."""
    state = Ingested()
    rejects = _Rejects(paths, state.rejected)
    ids: set[str] = set()
    redirects: dict[str, object] = {}
    aliases: list[tuple[str, str]] = []
    with BatchWriter(paths.staging / "docs.parquet", STAGED_DOCS) as docs, \
            BatchWriter(paths.staging / "links.parquet", STAGED_LINKS) as links:
        for doc in source:
            state.inputs += 1
            tick(state.inputs)
            problem = _problem(doc, ids, max_doc_bytes)
            if problem:
                rejects.add(doc, *problem)
                continue
            ids.add(doc.id)
            state.titles.add(doc.title, doc.id, redirect=doc.redirect is not None)
            if doc.redirect is not None:
                redirects[doc.id] = doc.redirect
            docs.add({"id": doc.id, "title": doc.title, "text": doc.text, "updated_at": iso(doc.updated_at),
                      "categories": doc.categories, "redirect_to": doc.redirect, "where": doc.where})
            for link in doc.links:
                links.add({"src": doc.id, "target": link.target, "anchor": link.anchor, "start": link.start,
                           "end": link.end})
            aliases.extend((alias, doc.id) for alias in doc.aliases)
        for alias, target in aliases:  # after every real page: real titles win
            if alias in ids or alias in state.titles.exact:
                state.alias_collisions += 1
                continue
            ids.add(alias)
            state.titles.add(alias, alias, redirect=True)
            redirects[alias] = ("id", target)
            docs.add({"id": alias, "title": alias, "text": "", "categories": [], "redirect_to": target,
                      "where": f"alias of {target}"})
    rejects.close()
    return state, redirects


def _resolve_redirects(state: Ingested, redirects: dict) -> dict[str, str | None]:
    for doc_id, target in redirects.items():
        found = target[1] if isinstance(target, tuple) else state.titles.lookup(target)
        if found is not None and found != doc_id:
            state.titles.set_redirect(doc_id, found)
    return {doc_id: state.titles.follow(doc_id) for doc_id in redirects}


def finalize(state: Ingested, redirects: dict, paths: CorpusPaths, tick: Callable[[int], None]) -> Ingested:
    """Pass 2: final rows, redirect ids, documents parquet + IPC, titles table, content hash. Texts stay
    in Arrow from the staged file to both outputs (never Python strings): a 20 MB page is not copied."""
    final = _resolve_redirects(state, redirects)
    digest = hashlib.sha256()
    dropped: list[dict] = []
    with BatchWriter(paths.documents, DOCS_SCHEMA) as parquet, \
            BatchWriter(paths.docs_arrow, DOCS_SCHEMA, fmt="ipc") as ipc, \
            BatchWriter(paths.titles, TITLES_SCHEMA) as titles:
        for batch in iter_batches(paths.staging / "docs.parquet"):
            small = batch.select([n for n in STAGED_DOCS.names if n != "text"]).to_pylist()
            keep = []
            for i, row in enumerate(small):
                where = row.pop("where")
                if row["id"] in final:
                    row["redirect_to"] = final[row["id"]]
                    if row["redirect_to"] is None:
                        dropped.append(reject_row(where, row["id"], row["title"], "redirect_unresolved",
                                                  f"target {redirects[row['id']]!r} not found"))
                        continue
                keep.append(i)
                state.rows[row["id"]] = len(state.rows)
                tick(len(state.rows))
                titles.add({"title": row["title"], "id": row["id"], "article": row["redirect_to"] or row["id"]})
                _hash_row(digest, row, text_pieces(batch.column("text"), i))
                state.redirects += row["redirect_to"] is not None
            out = _final_batch(batch, [small[i]["redirect_to"] for i in range(len(small))], keep)
            parquet.write_batch(out)
            ipc.write_batch(out)
    state.articles = len(state.rows) - state.redirects
    state.docs_hash = digest.hexdigest()
    _append_rejects(paths, dropped, state.rejected)
    return state


def _final_batch(staged: pa.RecordBatch, redirect_to: list, keep: list[int]) -> pa.RecordBatch:
    """The staged batch as DOCS_SCHEMA rows: resolved redirect ids, dropped rows left out."""
    columns = [pa.array(redirect_to, pa.string()) if name == "redirect_to" else staged.column(name)
               for name in DOCS_SCHEMA.names]
    out = pa.record_batch(columns, schema=DOCS_SCHEMA)
    return out if len(keep) == len(redirect_to) else out.take(pa.array(keep, pa.int64()))


def text_pieces(column: pa.Array, i: int, piece: int = 1 << 20) -> Iterator[str]:
    """Row i of a string column as str pieces of about `piece` bytes, decoded from the Arrow buffer in
    place (no whole-value copy); an incremental decoder carries a character cut between pieces."""
    import codecs

    value = column.slice(i, 1)
    offsets = value.buffers()[1]
    data = value.buffers()[2]
    first, last = (int(x) for x in np.frombuffer(offsets, dtype=np.int32)[value.offset: value.offset + 2])
    view, decoder = memoryview(data)[first:last] if data is not None else memoryview(b""), \
        codecs.getincrementaldecoder("utf-8")()
    for at in range(0, len(view), piece):
        yield decoder.decode(view[at: at + piece], final=at + piece >= len(view))


def iso(stamp) -> str | None:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if stamp is not None else None


def _row_bytes(row: dict) -> bytes:
    """What the content hash reads per row (the reference for `_hash_row`)."""
    values = [row["id"], row["title"], row["text"], row["updated_at"], row["categories"], row["redirect_to"]]
    return json.dumps(values, ensure_ascii=False).encode("utf-8") + b"\n"


def _hash_row(digest, row: dict, text: Iterable[str]) -> None:
    """`digest.update(_row_bytes(row))` with the text given (and escaped, hashed) in pieces: the JSON of a
    20 MB page (and its UTF-8 copy) is never built. JSON escapes character by character, so the pieces
    concatenate to the whole text's escape."""
    head = json.dumps([row["id"], row["title"]], ensure_ascii=False)[:-1]
    tail = json.dumps([row["updated_at"], row["categories"], row["redirect_to"]], ensure_ascii=False)[1:]
    digest.update(f'{head}, "'.encode())
    for piece in text:
        digest.update(json.dumps(piece, ensure_ascii=False)[1:-1].encode("utf-8"))
    digest.update(f'", {tail}\n'.encode())


def _append_rejects(paths: CorpusPaths, dropped: list[dict], counter: Counter) -> None:
    """Pass-2 rejects join the pass-1 ones in rejects/documents.parquet."""
    if not dropped:
        return
    import pyarrow.parquet as pq

    old = pq.read_table(paths.rejects).to_pylist() if paths.rejects.exists() else []
    with BatchWriter(paths.rejects, rejects_schema()) as writer:
        for row in old + dropped:
            writer.add(row)
    counter.update(row["reason"] for row in dropped)
