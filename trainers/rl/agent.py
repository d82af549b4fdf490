"""Agentic RL: multi-turn rollouts in the deep-search environment through the trajectory harness.

The harness (pipelines/trajectories/harness.py) runs the agent loop unchanged: context policy, tool-call
format (hermes / mcp_xml / openai), tool execution over the environment (synth.env via EnvTools), stop
rules. It talks to a *session*; here the session is the policy itself (`PolicySession`):

* every model turn renders the harness's request messages with the policy's chat template; when that text
  extends the context the policy already produced (prompt + its sampled tokens), only the new part (end of
  turn, tool results, the next assistant header) is tokenized and appended, so the policy conditions on its
  own sampled tokens (token in, token out; no re-tokenization drift). When the template rewrites history
  (a keep-last-K policy replacing an old tool result, a template dropping old thinking), the turn starts a
  new sequence in exactly the context the policy saw. Summary calls of the `summary` policy are context
  making, not policy turns: they are sampled but never trained.
* turns of all rollouts of a batch are generated together: each rollout is a coroutine, and the batcher
  calls the engine once every live rollout waits for a turn (tools run in between, synchronously).

Rewards: the answer judge (normalized exact / alias match) gives the trajectory reward (1 correct, 0 not);
the rule turn judge (pipelines/labels/rule.py: information gain against the task's gold evidence) labels
every policy turn, and a turn the judge keeps (essential, recovery, correct final answer) gets turn reward
1, others (redundant, unnecessary, error, wrong answer) 0. advantages.py mixes the two (--turn-credit).
Tool-result and template tokens are never sampled, so never trained.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from synth.trainers.render import ChatRenderer, RenderError
from synth.trainers.rl.engines import Generation, Request
from synth.trainers.rl.rollout import Prompt, Rollout, Segment, Sequence, derive_seed


@dataclass
class Reply:
    """What the harness reads of a model turn (the teacher layer's Reply fields it uses)."""

    text: str
    finish_reason: str
    tool_calls: list | None = None
    reasoning: str = ""


class Batcher:
    """One engine call per round: flushes when every live rollout is waiting for a turn."""

    def __init__(self, engine, live: int):
        self.engine, self.live, self.pending = engine, live, []

    async def generate(self, request: Request) -> Generation:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((request, future))
        self._flush()
        return await future

    def finished(self) -> None:
        self.live -= 1
        self._flush()

    def _flush(self) -> None:
        if not self.pending or len(self.pending) < self.live:
            return
        batch, self.pending = self.pending, []
        try:
            gens = self.engine.generate([r for r, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every waiting rollout sees the engine's failure
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), gen in zip(batch, gens):
            future.set_result(gen)


class PolicySession:
    """The harness's session over the policy: chat() samples a turn, tool() runs an environment tool."""

    def __init__(self, batcher: Batcher, renderer: ChatRenderer, tokenizer, seq_len: int, max_new_tokens: int,
                 seed_parts: tuple):
        self.batcher, self.renderer, self.tok = batcher, renderer, tokenizer
        self.seq_len, self.max_new_tokens, self.seed_parts = seq_len, max_new_tokens, seed_parts
        self.sequences: list[Sequence] = []
        self.texts: list[str] = []  # rendered text of each sequence so far
        self.turns = 0
        self.truncated = False

    def _context(self, text: str) -> tuple[int, list[int]]:
        """(sequence index, prompt ids) for a turn whose rendered prompt is `text`."""
        if self.sequences and text.startswith(self.texts[-1]):
            tail = self.tok(text[len(self.texts[-1]):], add_special_tokens=False)["input_ids"]
            return len(self.sequences) - 1, self.sequences[-1].ids + tail
        self.sequences.append(Sequence([]))
        self.texts.append("")
        return len(self.sequences) - 1, self.tok(text, add_special_tokens=False)["input_ids"]

    async def chat(self, messages: list[dict], *, tag: str | None = None, tools: list | None = None,
                   **params) -> Reply:
        text = self.renderer.render(messages, tools, generation_prompt=True)
        policy_turn = "/sum" not in (tag or "")
        if not policy_turn:  # a summary request: its own context, sampled, never trained
            ids = self.tok(text, add_special_tokens=False)["input_ids"]
            where = None
        else:
            where, ids = self._context(text)
        budget = min(int(params.get("max_tokens") or self.max_new_tokens), self.seq_len - len(ids))
        if budget < 1:  # the context is full: the rollout ends as truncated
            self.truncated = True
            return Reply("", "length")
        regex = (params.get("structured_outputs") or {}).get("regex")
        gen = await self.batcher.generate(Request(ids, derive_seed(*self.seed_parts, tag), budget, regex))
        if where is not None:
            seq = self.sequences[where]
            seq.ids = list(ids) + list(gen.ids)
            seq.segments.append(Segment(len(ids), len(seq.ids), self.turns, gen.finish))
            self.texts[where] = text + self.tok.decode(gen.ids, skip_special_tokens=False)
            self.turns += 1
            self.truncated = gen.finish == "length"
        return Reply(self.tok.decode(gen.ids, skip_special_tokens=True), gen.finish)

    async def tool(self, fn, *args, name: str, tag: str | None = None):
        # JSON round trip: the observation is exactly what a teacher-layer session would return
        return json.loads(json.dumps(fn(*args), ensure_ascii=False, default=str))


class SearchTask:
    def __init__(self, cfg, tokenizer):
        from synth.trainers.render import ChatRenderer

        self.cfg, self.tok = cfg, tokenizer
        self.renderer = ChatRenderer(tokenizer, tokenizer.chat_template)
        self._envs: dict[tuple, object] = {}

    def environment(self, record: dict):
        """(tools, specs, policy) of a task's environment; one EnvTools per corpus + tool set."""
        from synth.pipelines.trajectories.envtools import TOOLS, EnvTools
        from synth.pipelines.trajectories.policies import parse_policy

        spec = record.get("environment") or {}
        corpus = self.cfg.corpus or spec.get("corpus")
        if not corpus:
            from synth.errors import UserError

            raise UserError(f"task {record.get('id')}: no environment.corpus; pass --corpus DIR")
        names = tuple(t["function"]["name"] for t in spec.get("tools") or []) or TOOLS
        key = (str(corpus), names)
        if key not in self._envs:
            self._envs[key] = EnvTools(str(corpus), names)
        env = self._envs[key]
        # the schemas the task was made with are what the policy is shown (they may be trimmed); the
        # environment's own schemas otherwise
        specs = spec.get("tools") or env.schemas()
        return env.functions(), specs, parse_policy(spec.get("context_policy") or "full")

    def close(self) -> None:
        self._envs.clear()

    def rollouts(self, engine, prompts: list[Prompt], k: int, namespace: tuple) -> list[list[Rollout]]:
        return asyncio.run(self._all(engine, prompts, k, namespace))

    async def _all(self, engine, prompts: list[Prompt], k: int, namespace: tuple) -> list[list[Rollout]]:
        batcher = Batcher(engine, len(prompts) * k)
        jobs = [self._one(batcher, p, j, namespace) for p in prompts for j in range(k)]
        done = await asyncio.gather(*jobs)
        return [done[i * k:(i + 1) * k] for i in range(len(prompts))]

    async def _one(self, batcher: Batcher, prompt: Prompt, k: int, namespace: tuple) -> Rollout:
        from synth.pipelines.trajectories.harness import Harness, HarnessConfig, call_regex

        cfg = self.cfg
        session = PolicySession(batcher, self.renderer, self.tok, cfg.seq_len, cfg.max_new_tokens,
                                (*namespace, prompt.id, k))
        try:
            tools, specs, policy = self.environment(prompt.record)
            params = {"structured_outputs": {"regex": call_regex(specs, cfg.tool_format)}} if cfg.constrain_calls else {}
            harness = Harness(HarnessConfig(max_turns=cfg.max_turns, policy=policy, tool_format=cfg.tool_format,
                                            turn_params=params), tools, specs)
            system = next((m.get("content") for m in prompt.messages if m.get("role") == "system"), None)
            result = await harness.rollout(session, prompt.record["question"], tag=f"r{k}", system=system)
        except RenderError as err:  # a template that cannot render this conversation: no reward, no loss
            return Rollout(prompt.id, k, session.sequences, "", {"total": 0.0}, False, valid=False,
                           info={"error": err.reason})
        finally:
            batcher.finished()
        return score(prompt.record, result, session, k)


def score(task: dict, result, session: PolicySession, k: int) -> Rollout:
    """Answer judge -> trajectory reward; rule turn judge -> one turn reward per policy turn."""
    from synth.pipelines.labels.apply import LOSS
    from synth.pipelines.labels.rule import label_turns
    from synth.pipelines.trajectories.judge import match
    from synth.pipelines.trajectories.messages import final_answer

    predicted = final_answer(result.messages)
    verdict = match(predicted, task.get("answer"), task.get("aliases"))
    labels = label_turns({"messages": result.messages, "evidence": task.get("gold"), "answer": task.get("answer"),
                          "aliases": task.get("aliases"), "judgement": verdict.to_record()})
    assistant = [i for i, m in enumerate(result.messages) if m.get("role") == "assistant"]
    turn_labels = [labels[i].label if i in labels else "none" for i in assistant][: session.turns]
    turn_rewards = [float(LOSS.get(label, 0)) for label in turn_labels]
    correct = float(bool(verdict.correct))
    info = {"stop": result.stop, "turns": result.turns, "tool_calls": result.tool_calls, "labels": turn_labels,
            "sequences": len(session.sequences)}
    return Rollout(task["id"], k, session.sequences, predicted or "", {"total": correct, "answer": correct},
                   bool(correct), truncated=result.stop == "truncated" or session.truncated,
                   turn_rewards=turn_rewards + [0.0] * (session.turns - len(turn_rewards)),
                   messages=result.messages, info=info)
