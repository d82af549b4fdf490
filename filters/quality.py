"""Quality filters: one `FilterStep` per check, each returning None (keep) or a Reject with a stable reason.

They look at records of one kind (see filters.text for the text views) and are cheap, so they run first:
dedup then only compares records that survive them (a duplicate is never kept in place of a good twin
that a later filter would drop).
"""

from __future__ import annotations

import json
import re
from collections import Counter

from synth.filters import text as tx

from synth import schemas
from synth.records import Reject
from synth.steps import FilterStep


class KindFilter(FilterStep):
    """A filter configured for one record kind."""

    def __init__(self, kind: str, **options):
        super().__init__()
        self.kind = kind
        self.options = options


class SchemaFilter(KindFilter):
    """Records that break their kind's JSON Schema (the writer would refuse them anyway)."""

    name = "schema"

    def check(self, record: dict) -> Reject | None:
        error = schemas.first_error(record, self.kind)
        return Reject("schema_invalid", f"field '{error[0]}': {error[1]}") if error else None


class TokenBudgetFilter(KindFilter):
    """Too long for the training context, or too short to teach anything. Counts with `tokenizer` (a local
    Hugging Face tokenizer folder) when given, else with `filters.text.estimate_tokens`."""

    name = "token_budget"

    def setup(self, rank: int, world_size: int) -> None:
        self._count = tx.estimate_tokens
        if self.options.get("tokenizer"):
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(self.options["tokenizer"])
            self._count = lambda text: len(tok(text, add_special_tokens=False)["input_ids"])

    def check(self, record: dict) -> Reject | None:
        tokens = self._count(tx.full_text(record, self.kind))
        high, low = self.options.get("max_tokens"), self.options.get("min_tokens") or 0
        if high and tokens > high:
            return Reject("too_many_tokens", f"{tokens} tokens > max {high}")
        if tokens < low:
            return Reject("too_few_tokens", f"{tokens} tokens < min {low}")
        return None


def repetition(text: str, max_line_dup: float = 0.3, max_ngram_dup: float = 0.3) -> str | None:
    """Why `text` looks like a degenerate generation loop, or None (Gopher-style measures, loosened for
    model output: a few repeated lines are normal, a third of the text repeating is not)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) >= 4:
        counts = Counter(lines)
        dup = sum(len(line) * (n - 1) for line, n in counts.items() if n > 1)
        if dup / max(1, sum(map(len, lines))) > max_line_dup:
            return f"{dup / sum(map(len, lines)):.0%} of characters are in repeated lines"
    tokens = tx.words(text)
    if len(tokens) >= 50:
        seen, covered = set(), [False] * len(tokens)
        for i in range(len(tokens) - 9):
            gram = tuple(tokens[i:i + 10])
            if gram in seen:
                covered[i:i + 10] = [True] * 10
            seen.add(gram)
        share = sum(covered) / len(tokens)
        if share > max_ngram_dup:
            return f"{share:.0%} of words are in repeated 10-grams"
    return None


class RepetitionFilter(KindFilter):
    """Generation loops: repeated lines or 10-grams in generated text, or one tool call repeated."""

    name = "repetition"

    def check(self, record: dict) -> Reject | None:
        for label, text in _generated(record, self.kind):
            why = repetition(text)
            if why:
                return Reject("repetitive", f"{label}: {why}")
        if self.kind == "trajectory":
            calls = Counter(_call_key(c) for m in record.get("messages") or [] for c in (m.get("tool_calls") or []))
            top = calls.most_common(1)
            limit = self.options.get("max_same_call", 5)
            if top and top[0][1] > limit:
                return Reject("repetitive", f"tool call {top[0][0][:80]} repeated {top[0][1]} times (> {limit})")
        return None


def _call_key(call: dict) -> str:
    function = (call or {}).get("function") or {}
    return f"{function.get('name')}({function.get('arguments')})"


def _generated(record: dict, kind: str):
    """(label, text) of the parts a model generated."""
    if kind == "trajectory":
        for i, m in enumerate(record.get("messages") or []):
            if m.get("role") == "assistant":
                yield f"messages[{i}]", (m.get("reasoning_content") or "") + "\n" + (m.get("content") or "")
    elif kind == "preference_pair":
        for side in ("chosen", "rejected"):
            yield side, tx._messages_text(record.get(side))
    elif kind == "code_problem":
        yield "prompt", record.get("prompt") or ""
        yield "reference_solution", record.get("reference_solution") or ""
    else:
        yield "text", tx.full_text(record, kind)


_CALL_MARKUP = re.compile(r"<tool_call>(.*?)(</tool_call>|$)", re.DOTALL)


class ToolCallFilter(KindFilter):
    """Malformed tool calls: arguments that are not a JSON object, undeclared tools, results that answer
    no pending call, and `<tool_call>` markup left unparsed in assistant text with invalid JSON."""

    name = "tool_calls"

    def check(self, record: dict) -> Reject | None:
        key = "messages" if self.kind == "trajectory" else "chosen"
        declared = {((t or {}).get("function") or {}).get("name") for t in record.get("tools") or []} - {None}
        pending: set = set()
        for i, message in enumerate(record.get(key) or []):
            problem = self._message_problem(message, declared, pending)
            if problem:
                return Reject("malformed_tool_call", f"{key}[{i}]{problem}")
        return None

    @staticmethod
    def _message_problem(message: dict, declared: set, pending: set) -> str | None:
        role = message.get("role")
        if role == "assistant":
            if message.get("tool_calls"):
                pending.clear()
            for j, call in enumerate(message.get("tool_calls") or []):
                function = (call or {}).get("function") or {}
                try:
                    arguments = json.loads(function.get("arguments") or "")
                except (TypeError, ValueError):
                    return f".tool_calls[{j}].function.arguments: not valid JSON"
                if not isinstance(arguments, dict):
                    return f".tool_calls[{j}].function.arguments: not a JSON object"
                if declared and function.get("name") not in declared:
                    return f".tool_calls[{j}].function.name: {function.get('name')!r} is not a declared tool"
                pending.add(call.get("id"))
            for match in _CALL_MARKUP.finditer(message.get("content") or ""):
                try:
                    json.loads(match.group(1))
                except ValueError:
                    return ".content: <tool_call> markup with invalid JSON"
        elif role == "tool" and message.get("tool_call_id") and message["tool_call_id"] not in pending:
            return f".tool_call_id: {message['tool_call_id']!r} answers no call of the preceding assistant turn"
        return None


class AnswerFilter(KindFilter):
    """Empty or missing answers: the part of a record that training learns the outcome from."""

    name = "answer"

    def check(self, record: dict) -> Reject | None:
        problem = _answer_problem(record, self.kind)
        return Reject(*problem) if problem else None


def _blank(value) -> bool:
    return not isinstance(value, str) or not value.strip()


def _final_content(messages) -> str | None:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return message.get("content")
    return None


def _last_agent_turn(messages: list) -> dict:
    """The last message once closing user turns are set aside: in customer-service dialogs (tau-bench) the
    simulated user has the last word ("Thank you! ###STOP###") after the agent's answer. A trailing tool
    result still counts: the agent never answered it (a budget cut or a crash)."""
    end = len(messages)
    while end > 1 and isinstance(messages[end - 1], dict) and messages[end - 1].get("role") == "user":
        end -= 1
    return messages[end - 1] if isinstance(messages[end - 1], dict) else {}


def _answer_problem(record: dict, kind: str) -> tuple[str, str] | None:
    if kind == "deepsearch_task" and _blank(record.get("answer")):
        return "empty_answer", "answer is blank"
    if kind == "trajectory":
        last = _last_agent_turn(record.get("messages") or [{}])
        if last.get("role") != "assistant" or last.get("tool_calls"):
            return "missing_final_answer", (f"the trajectory ends with a {last.get('role') or 'missing'} turn, "
                                            "not an assistant answer")
        if _blank(re.sub(r"<think>.*?</think>", "", last.get("content") or "", flags=re.DOTALL)):
            return "empty_answer", "the final assistant message is blank"
        if "answer" in record and record["answer"] is not None and _blank(record["answer"]):
            return "empty_answer", "answer is blank"
    if kind == "code_problem":
        if _blank(record.get("reference_solution")):
            return "empty_solution", "reference_solution is blank"
        if not record.get("tests"):
            return "no_tests", "the problem has no tests"
    if kind == "preference_pair":
        chosen, rejected = _final_content(record.get("chosen")), _final_content(record.get("rejected"))
        if _blank(chosen) or _blank(rejected):
            return "empty_answer", f"{'chosen' if _blank(chosen) else 'rejected'} has no assistant content"
        if tx.normalize(chosen) == tx.normalize(rejected):
            return "identical_pair", "chosen and rejected say the same"
    if kind == schemas.GENERIC:
        for key in ("answer", "response", "output", "completion"):
            if key in record and _blank(record[key]) and not isinstance(record[key], (list, dict)):
                return "empty_answer", f"{key} is blank"
    return None


REFUSALS = re.compile(
    r"\b(?:I'?m sorry,? but I (?:can(?:not|'t)|won'?t|am unable)|I (?:can(?:not|'t)|won'?t) (?:help|assist|provide|"
    r"comply|fulfil)|I am (?:unable|not able) to (?:help|assist|provide|comply)|as an AI(?: language model)?,? I|"
    r"I must (?:decline|refuse)|I'?m not able to (?:help|assist|provide))", re.IGNORECASE)


class RefusalFilter(KindFilter):
    """Refusals where an answer should be (for pairs: in the chosen side only; a refused rejected side is
    often the point of the pair)."""

    name = "refusal"

    def check(self, record: dict) -> Reject | None:
        for label, text in _answers(record, self.kind):
            match = REFUSALS.search(text or "")
            if match:
                return Reject("refusal", f"{label}: {match.group(0)!r}")
        return None


def _answers(record: dict, kind: str):
    if kind == "trajectory":
        yield "final answer", _final_content(record.get("messages")) or ""
    elif kind == "preference_pair":
        yield "chosen", _final_content(record.get("chosen")) or ""
    elif kind == "deepsearch_task":
        yield "answer", record.get("answer") or ""
    elif kind == "code_problem":
        yield "reference_solution", record.get("reference_solution") or ""
    else:
        for key in ("answer", "response", "output", "completion"):
            if isinstance(record.get(key), str):
                yield key, record[key]
        if isinstance(record.get("messages"), list):
            yield "final answer", _final_content(record["messages"]) or ""


class VerifiedFilter(KindFilter):
    """Trajectories the answer judge did not mark correct (`synth trajectories` keeps only those too)."""

    name = "verified"

    def check(self, record: dict) -> Reject | None:
        from synth.pipelines.trajectories.filters import verdict

        return verdict(record)


class ToolErrorFilter(KindFilter):
    """A tool call that failed and was never followed by a successful call of the same tool."""

    name = "tool_errors"

    def check(self, record: dict) -> Reject | None:
        from synth.pipelines.trajectories.filters import unrecovered_error

        problem = unrecovered_error(record.get("messages") or [])
        return Reject("unrecovered_tool_error", problem) if problem else None
