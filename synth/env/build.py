"""`build_corpus(SOURCE, OUT)`: the whole CORPUS build, in resumable stages.

Stages: ingest (documents, titles, links, degrees) -> bm25 -> dense. Each finished stage leaves a
marker in OUT/.synth/stages/ with its figures; re-running the same build skips finished stages and the
dense stage resumes encoding at the first missing shard. A different source or config on an existing
OUT is refused unless `force`, which rebuilds from scratch. Nothing is cached outside OUT.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from synth import manifest as mf
from synth import state
from synth.dataset import require_new_or_dataset
from synth.engine import Runtime
from synth.env.dense import DenseConfig
from synth.env.sources.tabular import DEFAULT_MAX_DOC_BYTES
from synth.env.layout import KIND, LAYOUT_VERSION, CorpusPaths
from synth.errors import ConfigChangedError
from synth.progress import progress_bar

COMMAND = "corpus build"
OUTPUTS = ("data", "graph", "index", "lookup", "rejects", "corpus.json", "manifest.json", "README.md")


@dataclass
class BuildConfig:
    bm25: bool = True
    dense: bool = True
    dense_config: DenseConfig = field(default_factory=DenseConfig)
    show_progress: bool = True  # runtime only: not part of the config hash
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES  # a larger document is a `doc_too_large` reject
    runtime: Runtime = field(default_factory=Runtime)  # --executor/--workers of the parse: not in the hash

    def shaping(self) -> dict:
        shaping = {"bm25": self.bm25, "dense": self.dense, "dense_config": asdict(self.dense_config)}
        if self.max_doc_bytes != DEFAULT_MAX_DOC_BYTES:  # the default keeps earlier builds' config hash
            shaping["max_doc_bytes"] = self.max_doc_bytes
        return shaping


def source_hash(spec: str) -> str:
    from synth.env.sources import source_kind

    if source_kind(spec) == "foldoc":  # also: a missing file is a one-line InputError here
        from synth.env.sources.dictd import pair_for
        from synth.env.sources.foldoc import find_foldoc

        return mf.hash_files(list(pair_for(find_foldoc())))
    return mf.input_hash(Path(spec))


def _prepare(out: Path, digest: str, force: bool) -> None:
    require_new_or_dataset(out)
    saved = state.read_json(state.state_dir(out) / "state.json")
    if saved and saved.get("config_hash") != digest:
        if not force:
            raise ConfigChangedError(f"{out}: was built from another source or config; use --force to rebuild it")
        for name in OUTPUTS:
            target = out / name
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        for target in state.state_dir(out).iterdir():  # not the lock this process holds
            if target.name != "lock":
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    state.write_json_atomic(state.state_dir(out) / "state.json", {
        "command": COMMAND, "kind": KIND, "config_hash": digest,
        "started": (saved or {}).get("started") if saved and saved.get("config_hash") == digest else _now()})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stage(paths: CorpusPaths, name: str, run: Callable[[], dict]) -> dict:
    marker = paths.stages / f"{name}.json"
    done = state.read_json(marker)
    if done is not None:
        return done
    started = time.perf_counter()
    result = run()
    result["seconds"] = round(time.perf_counter() - started, 3)
    state.write_json_atomic(marker, result)
    return result


def _documents(source: str, paths: CorpusPaths, cfg: BuildConfig) -> Iterator:
    """The source's documents: parsed by --workers datatrove tasks when it splits (a multistream dump with
    its index; a sharded corpus with --workers > 1), else streamed here."""
    from synth.env.shards import iter_parsed, parse_in_parallel, plan_shards
    from synth.env.sources import open_source, source_kind

    rt, kind = cfg.runtime, source_kind(source)
    wanted = kind == "mediawiki" or (kind == "tabular" and (rt.workers > 1 or rt.executor != "local"))
    plan = plan_shards(source, rt.workers) if wanted else None
    if plan:
        figures = parse_in_parallel(plan, paths.staging, rt, cfg.max_doc_bytes)
        state.write_json_atomic(paths.stages / "parse.json", {"tasks": figures, "executor": rt.executor,
                                                              "workers": rt.workers})
        return iter_parsed(paths.staging / "parsed", len(plan))
    return open_source(source, cfg.max_doc_bytes)


def _ingest(source: str, paths: CorpusPaths, cfg: BuildConfig) -> dict:
    from synth.env.graph import build_graph
    from synth.env.ingest import finalize, stage

    show, max_doc_bytes = cfg.show_progress, cfg.max_doc_bytes
    documents = _documents(source, paths, cfg)
    with progress_bar("read source", None, show) as tick:
        ingested, redirects = stage(documents, paths, tick, max_doc_bytes)
    with progress_bar("write documents", ingested.inputs, show) as tick:
        finalize(ingested, redirects, paths, tick)
    with progress_bar("resolve links", None, show) as tick:
        graph = build_graph(ingested, paths, tick)
    articles = np.fromiter((row for doc_id, row in ingested.rows.items()
                            if not ingested.titles.is_redirect(doc_id)), dtype=np.int32)
    (paths.root / "index").mkdir(parents=True, exist_ok=True)
    np.save(paths.root / "index" / "articles.npy", articles)
    shutil.rmtree(paths.staging, ignore_errors=True)
    return {"inputs": ingested.inputs, "documents": len(ingested.rows), "articles": len(articles),
            "redirects": ingested.redirects, "rejected_by_reason": dict(sorted(ingested.rejected.items())),
            "alias_collisions": ingested.alias_collisions, "links": graph.links, "edges": graph.edges,
            "unresolved_links": graph.unresolved, "self_links": graph.self_links,
            "docs_hash": ingested.docs_hash, "links_hash": graph.links_hash}


def _aliases(paths: CorpusPaths) -> dict[str, list[str]]:
    import pyarrow.parquet as pq

    table = pq.read_table(paths.titles)
    out: dict[str, list[str]] = {}
    for title, doc_id, article in zip(*(table.column(c).to_pylist() for c in ("title", "id", "article"))):
        if doc_id != article:
            out.setdefault(article, []).append(title)
    return out


def _article_rows(paths: CorpusPaths) -> Iterator[tuple[str, str, str]]:
    """(id, title, text) of every article, in row order, streamed from the IPC file."""
    import pyarrow as pa

    reader = pa.ipc.open_file(pa.OSFile(str(paths.docs_arrow), "r"))  # not mapped: see bm25_texts
    for i in range(reader.num_record_batches):
        batch = reader.get_batch(i).to_pydict()
        for doc_id, title, text, redirect in zip(batch["id"], batch["title"], batch["text"], batch["redirect_to"]):
            if redirect is None:
                yield doc_id, title, text


def bm25_texts(paths: CorpusPaths) -> Iterator[Iterator[str]]:
    """What BM25 indexes per article: title, aliases (redirects to it), text; as parts (the title line,
    then the text a megabyte at a time from the Arrow buffer, cut at spaces), so a large page is never
    one Python string."""
    import pyarrow as pa

    from synth.env.bm25 import rejoin_at_spaces
    from synth.env.ingest import text_pieces

    aliases = _aliases(paths)
    # Read, not memory-mapped: the pages of a mapped file that were read stay resident while the map is
    # open, so the whole documents file would end up in this process's memory by the last article.
    reader = pa.ipc.open_file(pa.OSFile(str(paths.docs_arrow), "r"))
    for b in range(reader.num_record_batches):
        batch = reader.get_batch(b)
        small = batch.select(["id", "title", "redirect_to"]).to_pydict()
        for i, (doc_id, title, redirect) in enumerate(zip(small["id"], small["title"], small["redirect_to"])):
            if redirect is None:
                header = " ".join([title, *aliases.get(doc_id, [])[:20]]) + "\n"
                yield itertools.chain([header], rejoin_at_spaces(text_pieces(batch.column("text"), i)))


def dense_passages(paths: CorpusPaths, cfg: DenseConfig) -> Iterator[tuple[int, str]]:
    """(article position, "title: sentence") for the encoder (see synth.env.dense)."""
    from synth.env.chunks import sentences

    for position, (_, title, text) in enumerate(_article_rows(paths)):
        for start, end in sentences(text, cfg.min_chars, cfg.max_chars)[: cfg.max_passages]:
            yield position, f"{title}: {text[start:end]}"


def build_corpus(source: str, out: str | Path, cfg: BuildConfig | None = None, *, force: bool = False) -> dict:
    """Build (or resume) OUT from SOURCE; returns the summary the CLI prints."""
    cfg = cfg or BuildConfig()
    out, started = Path(out), time.time()
    src_hash = source_hash(source)
    digest = mf.config_hash(COMMAND, KIND, {"source": source, **cfg.shaping()}, [src_hash])
    require_new_or_dataset(out)
    state.state_dir(out).mkdir(parents=True, exist_ok=True)
    # One writer per --out, as for every command (synth.state.writer_lock): two builds would race on
    # the same staging files and stage markers.
    with state.writer_lock(out):
        return _build_locked(source, out, cfg, force, src_hash, digest, started)


def _build_locked(source: str, out: Path, cfg: BuildConfig, force: bool, src_hash: str, digest: str,
                  started: float) -> dict:
    paths = CorpusPaths(out)
    _prepare(out, digest, force)
    counts = _stage(paths, "ingest", lambda: _ingest(source, paths, cfg))
    indexes: dict = {}
    if cfg.bm25:
        indexes["bm25"] = _stage(paths, "bm25", lambda: _bm25(paths, counts["articles"], cfg.show_progress))
    if cfg.dense:
        indexes["dense"] = _stage(paths, "dense", lambda: _dense(paths, counts["articles"], cfg))
    card = _write_card(paths, source, src_hash, counts, indexes)
    _write_manifest(paths, source, src_hash, digest, cfg, counts, card, started)
    return {"command": COMMAND, "out": str(out), "status": "complete", "version": card["version"],
            "documents": counts["documents"], "articles": counts["articles"], "redirects": counts["redirects"],
            "links": counts["links"], "rejected": sum(counts["rejected_by_reason"].values()),
            "indexes": {k: v.get("kind", "bm25s") for k, v in indexes.items()},
            "seconds": round(time.time() - started, 3)}


def _bm25(paths: CorpusPaths, n: int, show: bool) -> dict:
    from synth.env.bm25 import build_bm25

    with progress_bar("bm25 index", n, show) as tick:
        return build_bm25(bm25_texts(paths), paths.bm25, tick)


def _dense(paths: CorpusPaths, n: int, cfg: BuildConfig) -> dict:
    from synth.env.dense import build_dense

    with progress_bar("encode (MiniLM)", n, cfg.show_progress) as tick:
        return build_dense(dense_passages(paths, cfg.dense_config), paths.dense, cfg.dense_config, tick)


def _executor(paths: CorpusPaths, cfg: BuildConfig) -> dict:
    parse = state.read_json(paths.stages / "parse.json")
    if parse is None:  # parsed in this process
        return {"type": "local", "tasks": 1, "workers": 1}
    return {"type": parse["executor"], "tasks": len(parse["tasks"]), "workers": parse["workers"]}


def _write_card(paths: CorpusPaths, source: str, src_hash: str, counts: dict, indexes: dict) -> dict:
    stable = {name: {k: v for k, v in info.items() if k != "seconds"} for name, info in indexes.items()}
    version = hashlib.sha256(mf.canonical([counts["docs_hash"], counts["links_hash"], stable])).hexdigest()[:16]
    card = {"layout_version": LAYOUT_VERSION, "kind": "corpus", "version": version,
            "source": {"spec": source, "hash": src_hash},
            "counts": {k: v for k, v in counts.items() if not k.endswith("_hash") and k != "seconds"},
            "indexes": stable}
    state.write_json_atomic(paths.card, card)
    return card


def _write_manifest(paths: CorpusPaths, source: str, src_hash: str, digest: str, cfg: BuildConfig,
                    counts: dict, card: dict, started: float) -> None:
    from synth.dataset import data_files

    files = data_files(paths.root)
    rejected = counts["rejected_by_reason"]
    timings = {name: (state.read_json(paths.stages / f"{name}.json") or {}).get("seconds")
               for name in ("ingest", "bm25", "dense")}
    begun = (state.read_json(state.state_dir(paths.root) / "state.json") or {}).get("started") or _now()
    mf.write_manifest(paths.root, {
        "synth_version": mf.synth_version(), "command": COMMAND, "kind": KIND, "status": "complete",
        "config": mf.redact({"source": source, **cfg.shaping()}), "config_hash": digest,
        "inputs": [{"path": source, "hash": src_hash, "kind": None, "records": counts["inputs"]}],
        "counts": {"input": counts["inputs"], "output": counts["documents"], "rejected": sum(rejected.values()),
                   "rejected_by_reason": rejected},
        "timings": {"started": begun, "finished": _now(), "seconds": round(time.time() - started, 3)},
        "executor": _executor(paths, cfg), "versions": mf.versions(),
        "output_hash": mf.hash_files(files), "files": [f"data/{p.name}" for p in files],
        "shards": mf.certify_shards(paths.root, files),
        "stats": {"corpus_version": card["version"], "counts": card["counts"], "indexes": card["indexes"],
                  "stage_seconds": timings}})
    mf.write_dataset_card(paths.root, COMMAND, KIND, "parquet")
