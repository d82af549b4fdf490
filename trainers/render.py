"""Records -> token ids + per-target loss weights, through the model's own chat template.

The template is a black box (any HF Jinja template), so message spans are found by rendering prefixes:
for a supervised assistant message i, `A = render(messages[:i], add_generation_prompt=True)` ends with
the assistant header and `B = render(messages[:i + 1])` ends after the message; the model's target is
`B[len(A):]` (content, thinking, tool calls and the end-of-turn token; trailing whitespace after it is
not supervised). Most templates are prefix-stable, so every supervised message of a conversation lands
in one sequence. Templates that rewrite history (Qwen3 drops earlier <think> blocks and adds an empty one
to the last turn) are not: a message whose `B` is not a prefix of the current sequence starts a new
sequence, so each message is trained in exactly the context the model sees at inference.

Tokens are mapped to messages by character offsets of one tokenization of the whole sequence, so a
message's loss never depends on how its neighbours tokenize alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SUPERVISED_ROLE = "assistant"


class RenderError(Exception):
    """A record that cannot become a training sample; `reason` is a stable snake_case reject reason."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason, self.detail = reason, detail


@dataclass
class Sample:
    """One sequence. `weights[t]` weighs the loss of predicting `ids[t + 1]` at position t (last is 0)."""

    ids: np.ndarray
    weights: np.ndarray
    truncated: bool = False  # cut to --seq-len by --truncate

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def _cut(sample: Sample, max_len: int) -> Sample:
    weights = sample.weights[:max_len].copy()
    weights[-1] = 0.0  # the cut-off next token is not in the row
    return Sample(sample.ids[:max_len], weights, True)


@dataclass
class _Group:
    text: str
    spans: list[tuple[int, int, float]] = field(default_factory=list)


def message_loss(message: dict) -> tuple[int, float]:
    """(loss flag, weight): assistant messages default to loss 1; other roles never carry loss."""
    if message.get("role") != SUPERVISED_ROLE:
        return 0, 0.0
    loss = message.get("loss")
    loss = 1 if loss is None else int(loss)
    weight = message.get("weight")
    weight = 1.0 if weight is None else float(weight)
    return (loss, weight) if loss and weight > 0 else (0, 0.0)


def template_message(message: dict) -> dict:
    """The fields a chat template reads; tool-call arguments become objects (the HF convention)."""
    out: dict[str, Any] = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("reasoning_content") is not None:
        out["reasoning_content"] = message["reasoning_content"]
    if message.get("tool_calls"):
        out["tool_calls"] = [_tool_call(call) for call in message["tool_calls"]]
    for key in ("tool_call_id", "name"):
        if message.get(key) is not None:
            out[key] = message[key]
    return out


def _tool_call(call: dict) -> dict:
    function = dict(call.get("function") or {})
    args = function.get("arguments")
    if isinstance(args, str):
        try:
            parsed = json.loads(args)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            function["arguments"] = parsed
    return {"id": call.get("id"), "type": call.get("type", "function"), "function": function}


def _message_spans(message: dict, full: str, start: int, weight: float) -> list[tuple[int, int, float]]:
    """The supervised character spans of one rendered assistant turn: all of it, or all but its reasoning text
    when the message says `reasoning_loss: 0` (the reasoning stays in context, without loss)."""
    end = start + len(full[start:].rstrip())
    reasoning = message.get("reasoning_content")
    if message.get("reasoning_loss") != 0 or not reasoning:
        return [(start, end, weight)]
    at = full.find(reasoning, start, end)
    if at < 0:   # the template does not render reasoning: nothing to exclude
        return [(start, end, weight)]
    return [(start, at, weight), (at + len(reasoning), end, weight)]


class ChatRenderer:
    def __init__(self, tokenizer: Any, chat_template: str | None = None):
        self.tok = tokenizer
        self.template = chat_template
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError("synth train needs a fast tokenizer (character offsets)")
        if chat_template is None and not getattr(tokenizer, "chat_template", None):
            raise ValueError("the tokenizer has no chat template; pass --chat-template FILE")

    def render(self, messages: list[dict], tools: list | None, generation_prompt: bool = False) -> str:
        try:
            return self.tok.apply_chat_template(
                messages, tools=tools or None, tokenize=False, add_generation_prompt=generation_prompt,
                chat_template=self.template)
        except Exception as exc:  # noqa: BLE001 - Jinja/template code raises anything; it is this record's problem
            raise RenderError("chat_template_error", f"{type(exc).__name__}: {exc}") from None

    def groups(self, messages: list[dict], tools: list | None) -> list[_Group]:
        """Sequences (latest first) and the character spans they supervise, with weights."""
        clean = [template_message(m) for m in messages]
        supervised = [(i, message_loss(m)[1]) for i, m in enumerate(messages) if message_loss(m)[0]]
        if not supervised:
            raise RenderError("no_loss_tokens", "no assistant message has loss 1")
        groups: list[_Group] = []
        for i, weight in reversed(supervised):
            head = self.render(clean[:i], tools, generation_prompt=True)
            full = self.render(clean[: i + 1], tools)
            if not full.startswith(head):
                raise RenderError("chat_template_unsupported",
                                  f"message {i}: the rendered turn does not extend the generation prompt")
            spans = _message_spans(messages[i], full, len(head), weight)
            if groups and groups[-1].text.startswith(full):
                groups[-1].spans.extend(spans)
            else:
                groups.append(_Group(full, spans))
        return groups

    def encode(self, group: _Group) -> Sample:
        enc = self.tok(group.text, add_special_tokens=False, return_offsets_mapping=True)
        ids = np.asarray(enc["input_ids"], dtype=np.int64)
        starts = np.asarray([s for s, _ in enc["offset_mapping"]], dtype=np.int64)
        token_w = np.zeros(len(ids), dtype=np.float32)
        for lo, hi, weight in group.spans:
            token_w[(starts >= lo) & (starts < hi)] = weight
        weights = np.zeros(len(ids), dtype=np.float32)
        weights[:-1] = token_w[1:]  # position t predicts token t + 1
        return Sample(ids.astype(np.int32), weights)

    def sft(self, record: dict, max_len: int, truncate: bool = False) -> list[Sample]:
        """The record's sequences; one longer than max_len is a too_long reject, or cut to max_len (truncate)."""
        samples = [self.encode(g) for g in reversed(self.groups(record.get("messages") or [], record.get("tools")))]
        longest = max(len(s) for s in samples)
        if longest > max_len and not truncate:
            raise RenderError("too_long", f"{longest} tokens > --seq-len {max_len} (--truncate cuts instead)")
        samples = [s if len(s) <= max_len else _cut(s, max_len) for s in samples]
        if not any(float(s.weights.sum()) > 0 for s in samples):
            raise RenderError("no_loss_tokens", "supervised messages rendered to no tokens")
        return samples

    def response(self, prompt: list[dict], response: list[dict], tools: list | None, max_len: int) -> Sample:
        """prompt + response as one sequence; only the response's assistant messages are supervised."""
        messages = [{**m, "loss": 0} for m in prompt] + [
            {**m, "loss": 1 if m.get("loss") is None else m["loss"]} for m in response]
        groups = self.groups(messages, tools)
        if len(groups) != 1:
            raise RenderError("chat_template_unsupported", "the response does not render as one sequence")
        sample = self.encode(groups[0])
        if len(sample) > max_len:
            raise RenderError("too_long", f"{len(sample)} tokens > --seq-len {max_len}")
        return sample
