"""`synth export trajectories IN --to sft|rl|openai|hermes|mcp_xml --out DIR`.

    sft      trajectory records for `synth train --mode sft`: messages + tools + per-message loss/weight, one
             record per context policy (`--context-policy full,keep_last_k:5,summary`): the same verified
             trajectory as the model would see it at its last turn under that policy (placeholders and
             summaries carry loss 0). Only verified trajectories: a wrong or unjudged answer or a broken format
             is a reject (--unverified keeps them).
    rl       rl_task records: question, answer, aliases, gold entities (answer doc, evidence docs, entity
             titles, facts) and the environment spec, one per task (from trajectories: the first of each task
             within a shard; from deepsearch tasks: every task, with --corpus for the environment).
    trl      pre-tokenized rows for TRL's SFTTrainer (input_ids + assistant_masks / completion_mask; tokenized.py):
             the sft records rendered with `--tokenizer DIR`'s chat template
    openai | hermes | mcp_xml   the trajectory in that tool-call format ({id, format, messages, tools, ...});
             `lossless` holds the patch that makes decoding exact when the text form cannot say everything.
"""

from __future__ import annotations

from synth.pipelines.labels.evidence import evidence_of
from synth.pipelines.trajectories import filters, formats, policies
from synth.pipelines.trajectories.harness import head_messages

from synth.records import Reject
from synth.steps import RecordStep

TARGETS = ("sft", "trl", "rl", "openai", "hermes", "mcp_xml")
SFT_KEYS = ("task_id", "tools", "question", "answer", "aliases", "predicted_answer", "judgement", "source_format",
            "provenance")


def verified(record: dict) -> Reject | None:
    problem = filters.format_problem(record.get("messages") or [])
    if problem:
        return Reject("invalid_format", problem)
    judged = record.get("judgement") or {}
    if judged.get("correct") is False:
        return Reject("wrong_answer", judged.get("reason"))
    if judged.get("correct") is None and record.get("answer"):
        return Reject("unjudged", "the trajectory has a gold answer but no judgement")
    return None


def with_reasoning_loss(messages: list[dict], reasoning_loss: int | None) -> list[dict]:
    """Set `reasoning_loss` on every assistant message that has reasoning (None: leave the messages as they are)."""
    if reasoning_loss is None:
        return messages
    return [{**m, "reasoning_loss": reasoning_loss} if m.get("role") == "assistant" and m.get("reasoning_content")
            else m for m in messages]


def sft_variants(record: dict, names: list[str], reasoning_loss: int | None = None) -> list[dict]:
    out = []
    summaries = (record.get("metadata") or {}).get("summaries")
    for name in names:
        policy = policies.parse_policy(name)
        messages = with_reasoning_loss(policies.view(record["messages"], policy, summaries), reasoning_loss)
        variant = {k: record[k] for k in SFT_KEYS if record.get(k) is not None}
        suffix = "" if len(names) == 1 else f"@{policy.name}"
        out.append({"id": f"{record['id']}{suffix}", **variant, "messages": messages, "context_policy": policy.name,
                    "metadata": {"source_id": record["id"], **({"labelled": True} if _labelled(record) else {})}})
    return out


def _labelled(record: dict) -> bool:
    return any(m.get("loss") is not None for m in record.get("messages") or [])


def rl_from_trajectory(record: dict) -> dict:
    evidence = record.get("evidence") or {}
    env = {**(record.get("environment") or {}), "context_policy": record.get("context_policy") or "full"}
    head = [m for m in record["messages"][:policies.head_length(record["messages"])]]
    return {"id": record.get("task_id") or record["id"], "question": record["question"], "answer": record["answer"],
            "aliases": record.get("aliases"), "prompt": [{"role": m["role"], "content": m.get("content")} for m in head],
            "gold": _gold(evidence) if evidence else None, "environment": env,
            "tier": (record.get("metadata") or {}).get("tier"), "reference_trajectory": record["id"],
            "provenance": {"command": "export trajectories", "mode": "rl"}}


def rl_from_task(task: dict, env: dict) -> dict:
    return {"id": task["id"], "question": task["question"], "answer": task["answer"], "aliases": task.get("aliases"),
            "prompt": head_messages(task["question"]), "gold": _gold(evidence_of(task)), "environment": env,
            "tier": task.get("tier"), "pass_rate": task.get("pass_rate"),
            "provenance": {"command": "export trajectories", "mode": "rl"}}


def _gold(evidence: dict) -> dict:
    facts = evidence.get("facts") or []
    entities = sorted({t for f in facts for t in (f.get("subject"), f.get("object") if f.get("kind") == "link" else None) if t})
    return {"answer_doc_id": evidence.get("answer_doc_id"), "docs": evidence.get("docs") or [], "entities": entities,
            "facts": [{k: f.get(k) for k in ("doc_id", "start", "end", "quote")} for f in facts]}


def to_format(record: dict, target: str) -> dict:
    messages, lossless = formats.encode(record["messages"], target)
    out = {k: v for k, v in record.items() if k not in ("messages",) and v is not None}
    out.update(format=target, messages=messages)
    if lossless:
        out["lossless"] = lossless
    return out


class ExportStep(RecordStep):
    name = "export trajectories"

    def __init__(self, target: str, policies_: list[str], keep_unverified: bool, env: dict | None = None,
                 reasoning_loss: int | None = None, tokenize=None):
        super().__init__()
        self.target, self.policies, self.keep_unverified, self.env = target, policies_, keep_unverified, env
        self.reasoning_loss, self.tokenize = reasoning_loss, tokenize   # tokenize: a TokenizeForTrl step (trl)
        self._tasks_seen: set[str] = set()

    def process(self, record: dict):
        if self.target == "rl":
            return self._rl(record)
        if self.target in ("sft", "trl") and not self.keep_unverified:
            rejected = verified(record)
            if rejected:
                return rejected
        if self.target == "sft":
            return sft_variants(record, self.policies, self.reasoning_loss)
        if self.target == "trl":
            rows = []
            for variant in sft_variants(record, self.policies, self.reasoning_loss):
                got = self.tokenize.process(variant)
                if isinstance(got, Reject):
                    return got
                rows += got
            return rows
        return to_format(record, self.target)

    def _rl(self, record: dict):
        if "facts" in record:  # a deepsearch_task
            return rl_from_task(record, self.env or {})
        if not record.get("question") or not record.get("answer"):
            return Reject("no_gold_answer", "an rl task needs a question and a gold answer")
        if not self.keep_unverified and (rejected := verified(record)):
            return rejected
        task = record.get("task_id") or record["id"]
        if task in self._tasks_seen:
            return Reject("duplicate_task", f"task {task} was exported from an earlier trajectory")
        self._tasks_seen.add(task)
        return rl_from_trajectory(record)
