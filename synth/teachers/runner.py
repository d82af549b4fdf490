"""`TeacherRunner`: datatrove's InferenceRunner as the terminal step of a synth job.

What datatrove provides and we keep: the server lifecycle per task, the async document loop with its
concurrency caps, per-document checkpoints (OUT/.synth/inference/RRRRR/chunk_CCCCC.jsonl), the sqlite
request cache that replays finished calls after a crash, and chunked output through our DatasetWriter.

What we change, and why:
  * `_send_request`: our retry policy (bounded attempts, exponential backoff from `--retry-backoff`,
    only for transient failures) instead of datatrove's fixed 6 attempts with 5..160 s sleeps that treat
    any HTTP 500 as fatal; native `tool_calls` kept; a circuit breaker turns N failures in a row into
    "teacher unavailable" (stop, resume later) instead of N rejects.
  * `_cached_request`: the payload is completed (model + sampling defaults) before it is hashed, so a
    changed temperature never replays a stale answer; cached replays are flagged (usage counts them apart);
    tool results can be cached through the same store (`compute=`), see synth.teachers.session.
  * document ids are the record's position, unique within the task (the runner skips "already processed"
    documents by id when it resumes; duplicate record ids must not make it skip the wrong one).
  * the last, partial chunk is committed before datatrove deletes its checkpoint (see _CommitFirst).
  * the request cache's sqlite runs in WAL mode (see _WalCache): 200x cheaper commits.
  * a dead teacher is reported as one line in OUT/.synth/error.json (the CLI exits 2 with it).
  * every request sent is admitted by a Gate (synth.teachers.gate) and recorded in the spend ledger
    (synth.teachers.budget): `--max-tokens-total` / `--max-cost` stop the task gracefully ("capped").
"""

from __future__ import annotations

import asyncio
import os
import random
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from datatrove.pipeline.inference.checkpointing import CheckpointManager, RequestCache
from datatrove.pipeline.inference.run_inference import InferenceRunner
from datatrove.pipeline.inference.types import ServerError

from synth import records, state
from synth.dataset import STATE
from synth.teachers.budget import Ledger, Spend, estimate_prompt_tokens, spend_of
from synth.teachers import http
from synth.teachers.config import Teacher, inference_config
from synth.teachers.errors import TeacherError, TeacherUnavailable, TransientError
from synth.teachers.gate import BudgetExhausted, Gate
from synth.teachers.servers import make_server
from synth.teachers.session import Reply
from synth.teachers.tasks import SynthRollout, TeacherTask

BACKOFF_CAP_S = 30.0
# Reject reasons that say "the teacher failed", not "this record failed": retried when a run resumes.
RETRY_ON_RESUME = frozenset({"teacher_timeout", "teacher_connection_error", "teacher_server_error",
                             "teacher_rate_limited", "teacher_malformed_response"})


class ToolPool:
    """shared_context for rollouts: a thread pool for tool calls, created inside the worker."""

    def __init__(self, workers: int):
        self.workers = workers

    @contextmanager
    def __call__(self):
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="synth-tool")
        try:
            yield {"tool_pool": pool}
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


class _WalCache(RequestCache):
    """datatrove's request cache, cheaper per call (same table, same replay semantics):
    * WAL + synchronous=NORMAL: in sqlite's default mode every commit is an fsync (~20 ms on a VM disk) and
      the one writer queue fell behind the engine; the run then waited for it at every chunk boundary and
      at the end (2x slower at 100 calls/s). WAL commits survive a killed process (the resume guarantee);
      only a power loss can drop the last answers, which are then asked again.
    * the writer drains its queue in batches (one executemany + one commit) and encodes inline instead of
      three thread hops per call: client CPU is engine CPU on a machine that hosts both."""

    _INSERT = ("INSERT OR REPLACE INTO request_cache (chunk_index, doc_id, rollout_idx, payload_hash, result, "
               "error_message) VALUES (?, ?, ?, ?, {})")
    _SQL: ClassVar[dict[str, str]] = {"result": _INSERT.format("?, NULL"), "error": _INSERT.format("NULL, ?")}

    async def initialize(self, rank: int) -> None:
        await super().initialize(rank)
        if self._conn is not None:
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            await self._conn.commit()

    async def _writer_loop(self) -> None:
        import orjson

        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            rows: dict[str, list] = {"result": [], "error": []}
            for item in batch:
                if item is not None:
                    op, (chunk, doc, rollout, digest, value) = item
                    rows[op].append((chunk, doc, rollout, digest, orjson.dumps(value) if op == "result" else value))
            try:
                for op, values in rows.items():
                    if values and self._conn is not None:
                        await self._conn.executemany(self._SQL[op], values)
                if self._conn is not None:
                    await self._conn.commit()
            except Exception as exc:  # noqa: BLE001 - a lost cache entry only costs a repeated call
                from loguru import logger

                logger.error(f"Failed to write request cache entries: {exc}")
            finally:
                for _ in batch:
                    self._queue.task_done()
            if any(item is None for item in batch):
                return


class _CommitFirst(CheckpointManager):
    """Two changes to datatrove's checkpoints:
    * datatrove deletes the last chunk's checkpoint (and marks it done) inside the writer's context, before
      the writer's exit would commit that chunk; a crash in between would lose it. Commit it first.
    * on resume, records of unfinished chunks that were rejected for a transient reason (the teacher timed
      out, was unreachable...) are dropped from the checkpoint, so they are tried again instead of being
      replayed as rejects: typically the failures that led up to "teacher unavailable" and the stop."""

    def __init__(self, *args, writer, **kwargs):
        super().__init__(*args, **kwargs)
        self.writer = writer

    async def cleanup_last_chunk(self, rank: int, chunk_index: int):
        self.writer.close_file(self.writer._get_output_filename(None, rank, chunk_index=chunk_index))
        await super().cleanup_last_chunk(rank, chunk_index)

    async def parse_existing_checkpoints(self, rank: int, output_writer_context):
        if self.checkpoints_local_dir:
            self._repair_last_chunk(rank)
            for path in sorted(Path(self.checkpoints_local_dir, f"{rank:05d}").glob("chunk_*.jsonl")):
                _drop_transient_rejects(path)
        return await super().parse_existing_checkpoints(rank, output_writer_context)

    def _repair_last_chunk(self, rank: int) -> None:
        """datatrove rewrites last_chunk/RRRRR.txt in place (truncate, then write): a SIGKILL in between leaves
        it empty and every resume dies on int(''). Rebuild it from what synth committed: every chunk up to
        the one datatrove was recording is committed (see cleanup_last_chunk), so the longest run of
        committed chunks from 0 is a safe index (a committed chunk is never replayed into the output)."""
        path = Path(self.checkpoints_local_dir, "last_chunk", f"{rank:05d}.txt")
        if not path.is_file() or path.read_text().strip().lstrip("-").isdigit():
            return
        done, last = state.done_chunks(self.writer.out, rank), -1
        while last + 1 in done:
            last += 1
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(str(last))
        os.replace(tmp, path)


def _drop_transient_rejects(path: Path) -> None:
    import orjson

    lines = path.read_bytes().splitlines(keepends=True)
    keep = []
    for line in lines:
        try:
            reject = orjson.loads(line)["metadata"][records.KEY].get("reject") or {}
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by the crash: that document is simply done again
        if reject.get("reason") not in RETRY_ON_RESUME:
            keep.append(line if line.endswith(b"\n") else line + b"\n")
    if len(keep) != len(lines):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(b"".join(keep))
        os.replace(tmp, path)


class TeacherRunner(InferenceRunner):
    name = "🧑‍🏫 teacher"

    def __init__(self, task: TeacherTask, teacher: Teacher, writer, chunk_size: int):
        out = Path(writer.out)
        config = inference_config(teacher, out / STATE / "logs" / "server",
                                  task.docs_in_flight(teacher.options.max_concurrency))
        checkpoints = str(out / STATE / "inference")
        super().__init__(rollout_fn=SynthRollout(task, teacher), config=config, output_writer=writer,
                         shared_context=ToolPool(teacher.options.tool_workers), checkpoints_local_dir=checkpoints,
                         records_per_chunk=chunk_size, metadata_key="teacher")
        self.request_cache = _WalCache(checkpoints)
        self.checkpoint_manager = _CommitFirst(checkpoints, chunk_size, request_cache=self.request_cache, writer=writer)
        self.teacher = teacher
        self._failures_in_a_row = 0
        self._gate: Gate | None = None  # built in the worker (it holds asyncio futures)
        self._stopping = False

    def _init_server(self, rank: int):
        return make_server(self.teacher, self.config, rank)

    def run(self, data, rank: int = 0, world_size: int = 1):
        out = Path(self.output_writer.out)
        self._gate = Gate(self.teacher.budget, Ledger(out, rank))
        try:
            if self._gate.exhausted_at_start():  # no engine started just to stop at once
                raise BudgetExhausted(self._gate.message())
            return super().run(_position_ids(data), rank, world_size)
        except BudgetExhausted as exc:
            # Graceful: datatrove counts the task as done (so sibling tasks are not torn down) and the marker
            # tells run_job it is not; the next run clears both and the task resumes (synth.engine).
            state.mark_stopped(out, rank, "capped", str(exc))
            return None
        except ServerError as exc:
            where = f" (engine log: {self.config.server_log_folder})" if self.teacher.spec.kind == "vllm" else ""
            state.write_json_atomic(out / STATE / "error.json",
                                    {"message": f"teacher {self.teacher.spec}: {exc}{where}"})
            raise
        finally:
            self._gate.ledger.flush()

    async def _handle_record(self, doc, *args, **kwargs):
        self._gate.record_started()
        try:
            return await super()._handle_record(doc, *args, **kwargs)
        except BudgetExhausted:
            # Every record waiting at the gate gets the stop; one is enough to end the task. datatrove awaits
            # only the first failed record of a batch, so the others would be "exceptions never retrieved".
            # They end quietly, unsaved: a resume does them again.
            if self._stopping:
                return None
            self._stopping = True
            raise
        finally:
            self._gate.record_finished()

    # -- requests --------------------------------------------------------------------------------------
    def _complete(self, payload: dict) -> dict:
        payload = {"model": self.config.model_name_or_path, **payload}
        for key, value in self.config.default_generation_params.items():
            payload.setdefault(key, value)
        return payload

    async def _cached_request(self, payload: dict, semaphore, server, doc_id: str, rollout_idx: int,
                              chunk_index: int, request_counters: list[int] | None = None, compute=None) -> Reply:
        if compute is None:
            payload = self._complete(payload)
        cache = self.request_cache
        digest = cache.prepare_payload(payload) if cache.enabled else None
        if digest is not None:
            hit, _ = await cache.get_cached_response(doc_id, rollout_idx, payload_hash=digest)
            if hit is not None:
                self.stat_update("cached_replays", unit="request")
                return Reply.from_cache(hit)
        if compute is not None:
            reply = Reply(text=await compute(), finish_reason="tool", usage={})
        else:
            if request_counters is not None:
                request_counters[rollout_idx] += 1
            reply = await self._paid_request(server, payload, semaphore, doc_id)
        if digest is not None:
            await cache.store_result(chunk_index=chunk_index, doc_id=doc_id, rollout_idx=rollout_idx,
                                     result=reply.to_cache(), payload_hash=digest)
        return reply

    async def _paid_request(self, server, payload: dict, semaphore, doc_id: str) -> Reply:
        """A request that reaches the server: admitted by the gate, its usage recorded in the ledger."""
        prompt = estimate_prompt_tokens(payload.get("messages"), payload.get("tools"))
        estimate = Spend(prompt, int(payload.get("max_tokens") or self.teacher.options.max_tokens), 1)
        await self._gate.acquire(doc_id, estimate)
        used = Spend(requests=1)
        try:
            reply = await self._send_request(server, payload, semaphore)
            used = spend_of(reply.usage, reply.text, prompt)
            return reply
        finally:
            self._gate.release(estimate, used)

    async def _send_request(self, server, payload: dict, semaphore) -> Reply:
        opts = self.teacher.options
        self.queue_sizes.change_queues({"waiting_requests": 1})
        async with semaphore:
            self.queue_sizes.change_queues({"waiting_requests": -1, "running_requests": 1})
            try:
                return await self._attempts(server, payload)
            finally:
                self.queue_sizes.change_queues({"running_requests": -1})

    async def _attempts(self, server, payload: dict) -> Reply:
        """Up to 1 + --retries attempts inside one deadline: every attempt at its full --timeout plus the
        nominal backoff between them (`call_deadline`). Attempts, backoff (with its jitter) and anything slower
        than planned all count against it, so no call (and no record waiting on it) outlives it."""
        opts, loop = self.teacher.options, asyncio.get_running_loop()
        budget = call_deadline(opts.timeout, opts.retries, opts.backoff)
        deadline = loop.time() + budget
        for attempt in range(opts.retries + 1):
            token = http.ATTEMPT_LIMIT.set(max(0.001, deadline - loop.time()))
            try:
                response = await server.make_request(payload)
            except TransientError as exc:
                self.stat_update(exc.reason, unit="request")
                if attempt < opts.retries:
                    pause = min(_backoff(opts.backoff, attempt), deadline - loop.time())
                    if pause > 0:
                        await asyncio.sleep(pause)
                    if deadline - loop.time() > 0:
                        continue
                    # Out of time: the reject names the last failure (a timeout, or e.g. the 503s that used the
                    # time up), and the detail says the deadline ended the retries.
                    exc = TransientError(exc.reason, f"{exc.detail}; deadline of {budget:g} s (--timeout x "
                                         "(1 + --retries) + backoff) spent")
                self._failed(exc)
                raise TeacherError(exc.reason, f"{exc.detail} (after {attempt + 1} attempts)") from None
            finally:
                http.ATTEMPT_LIMIT.reset(token)
            self._failures_in_a_row = 0
            return self._reply(response)
        raise AssertionError("unreachable")

    def _failed(self, exc: TeacherError) -> None:
        self.metrics.add_metrics(failed_requests=1, requests=1)
        self._failures_in_a_row += 1
        if self._failures_in_a_row >= self.teacher.options.max_failures_in_a_row:
            raise TeacherUnavailable(f"{self._failures_in_a_row} calls failed in a row, last: {exc.reason}: "
                                     f"{exc.detail}; re-run the same command to resume")

    def _reply(self, response: dict) -> Reply:
        choice = response["choices"][0]
        message = choice.get("message") or {}
        usage = {k: int(v or 0) for k, v in (response.get("usage") or {}).items()
                 if k in ("prompt_tokens", "completion_tokens")}
        self.metrics.add_metrics(tokens_input=usage.get("prompt_tokens", 0),
                                 tokens_output=usage.get("completion_tokens", 0), requests=1, successful_requests=1)
        self.stat_update("successful_requests", unit="request")
        text = message.get("content") if self.config.use_chat else choice.get("text")
        return Reply(text=text or "", finish_reason=choice.get("finish_reason") or "stop", usage=usage,
                     reasoning=message.get("reasoning_content") or message.get("reasoning") or "",
                     tool_calls=message.get("tool_calls") or None)


def call_deadline(timeout: float, retries: int, backoff: float) -> float:
    """Seconds one teacher call may take with all its retries: each attempt's --timeout and the longest
    nominal backoff between attempts."""
    return timeout * (retries + 1) + sum(min(BACKOFF_CAP_S, backoff * 2 ** a) for a in range(retries))


def _backoff(base: float, attempt: int) -> float:
    # Jitter spreads the retries of many concurrent requests (it changes timing only, never output).
    return min(BACKOFF_CAP_S, base * (2 ** attempt)) * (0.5 + random.random() / 2)


def _position_ids(data):
    """Document id := the record's position (unique in the task; the record keeps its own id)."""
    for doc in data:
        doc.id = doc.metadata[records.KEY]["key"]
        yield doc
