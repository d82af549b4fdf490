"""Judge inputs: any record that holds one response to one prompt becomes a `Candidate`.

Accepted shapes (checked up front by the commands; a row that fits none stops the run with exit 2):
  * chat `messages` with at least one assistant message after the last user message (the output of
    `synth generate responses`, agent trajectories, any SFT dataset): prompt = messages up to and including
    the last user message, response = everything after it (assistant turns, tool calls and results);
  * `prompt` (a string or a message list) with `response` / `completion` / `chosen` (a string or messages).
Candidates of the same prompt are grouped by `task_id`, else `metadata.prompt_id`, else a hash of the
prompt messages: K samples of `synth generate responses` share their prompt's id, and so do agent
trajectories of one deep-search task. A point-wise score already on the record (`metadata.judge.score`, what
`synth judge pointwise` writes) is picked up, so the two judges chain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant", "tool")
MESSAGE_FIELDS = ("role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name")
RESPONSE_KEYS = ("response", "completion", "chosen")


@dataclass
class Candidate:
    id: str
    prompt_id: str
    prompt: list[dict]
    response: list[dict]
    tools: list | None = None
    answer: str | None = None      # a reference answer, shown to the judge when the record has one
    score: float | None = None     # point-wise overall score, when known
    scores: dict | None = None     # point-wise per-criterion scores, when known
    extra: dict = field(default_factory=dict)  # the source record's provenance/metadata, carried along

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Candidate:
        return cls(**data)


def clean_message(message: dict) -> dict | None:
    """The message fields every synth schema shares (turn labels, loss flags and unknown keys dropped)."""
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        return None
    out = {k: message[k] for k in MESSAGE_FIELDS if message.get(k) is not None}
    if "content" in out and not isinstance(out["content"], str):
        out["content"] = _text(out["content"])
    return out


def _text(content: Any) -> str:
    """OpenAI's list-of-parts content as plain text."""
    if isinstance(content, list):
        return "".join(p.get("text") or "" if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def _messages(value: Any, role: str) -> list[dict] | None:
    if isinstance(value, str):
        return [{"role": role, "content": value}] if value.strip() else None
    if isinstance(value, list):
        cleaned = [m for m in (clean_message(v) for v in value) if m is not None]
        return cleaned or None
    return None


def split_conversation(messages: list[dict]) -> tuple[list[dict], list[dict]] | None:
    """(prompt, response) split after the last user message; None when no assistant message follows it."""
    cleaned = [m for m in (clean_message(v) for v in messages) if m is not None]
    last_user = max((i for i, m in enumerate(cleaned) if m["role"] == "user"), default=None)
    if last_user is None:
        return None
    prompt, response = cleaned[: last_user + 1], cleaned[last_user + 1:]
    if not any(m["role"] == "assistant" for m in response):
        return None
    return prompt, response


def _parts(record: dict) -> tuple[list[dict], list[dict]] | str:
    """(prompt, response) or the reason the record has none."""
    if isinstance(record.get("messages"), list):
        split = split_conversation(record["messages"])
        return split if split else "no response: expected an assistant message after the last user message"
    prompt = _messages(record.get("prompt") if record.get("prompt") is not None else record.get("question"), "user")
    if prompt is None:
        return "no prompt: expected chat 'messages', or 'prompt' with 'response'"
    for key in RESPONSE_KEYS:
        response = _messages(record.get(key), "assistant")
        if response is not None:
            return prompt, response
    return "no response: expected 'response' or 'completion' next to 'prompt'"


def prompt_key(record: dict, prompt: list[dict]) -> str:
    for value in (record.get("task_id"), (record.get("metadata") or {}).get("prompt_id")
                  if isinstance(record.get("metadata"), dict) else None):
        if value not in (None, ""):
            return str(value)
    from synth.manifest import canonical, hash_bytes

    return "p-" + hash_bytes(canonical(prompt))[:16]


def point_score(record: dict) -> tuple[float | None, dict | None]:
    judge = (record.get("metadata") or {}).get("judge") if isinstance(record.get("metadata"), dict) else None
    if isinstance(judge, dict) and isinstance(judge.get("score"), (int, float)):
        return float(judge["score"]), judge.get("scores") if isinstance(judge.get("scores"), dict) else None
    return None, None


def candidate_of(record: dict) -> Candidate | str:
    """The candidate in `record`, or a one-line reason why there is none (pure; pre-pass and tasks agree)."""
    if not isinstance(record, dict):
        return "expected a JSON object"
    parts = _parts(record)
    if isinstance(parts, str):
        return parts
    prompt, response = parts
    pid = prompt_key(record, prompt)
    if record.get("id") not in (None, ""):
        cid = str(record["id"])
    else:
        from synth.manifest import canonical, hash_bytes

        cid = "c-" + hash_bytes(canonical([prompt, response]))[:16]
    score, scores = point_score(record)
    extra = {k: record[k] for k in ("provenance", "metadata") if isinstance(record.get(k), dict)}
    return Candidate(id=cid, prompt_id=pid, prompt=prompt, response=response,
                     tools=record.get("tools") if isinstance(record.get("tools"), list) else None,
                     answer=record.get("answer") if isinstance(record.get("answer"), str) else None,
                     score=score, scores=scores, extra=extra)


def check_inputs(inputs: list[str], need_score: bool = False) -> int:
    """Every input row must hold a candidate (InputError, exit 2, naming file:row and field otherwise).
    Returns the number of rows. `need_score`: each must also carry a point-wise score."""
    from synth.dataset import iter_rows
    from synth.errors import InputError

    count = 0
    for row in iter_rows(inputs):
        found = candidate_of(row.record)
        if isinstance(found, str):
            raise InputError(row.path, row.row, found, field="messages")
        if need_score and found.score is None:
            raise InputError(row.path, row.row, "no point-wise score (run `synth judge pointwise` first, or "
                             "use --pointwise auto|judge)", field="metadata.judge.score")
        count += 1
    return count


# -- what the judge reads -------------------------------------------------------------------------------
def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit} more characters]"


def render(messages: list[dict], limit: int) -> str:
    """A conversation as plain text for a judge prompt (thinking left out: judges rate what users see)."""
    lines = []
    for m in messages:
        role = m["role"]
        if role == "tool":
            lines.append(f"[tool result{' ' + m['name'] if m.get('name') else ''}]\n{clip(m.get('content') or '', limit)}")
            continue
        text = clip(m.get("content") or "", limit)
        calls = [f"[tool call] {(c.get('function') or {}).get('name')}({(c.get('function') or {}).get('arguments')})"
                 for c in m.get("tool_calls") or [] if isinstance(c, dict)]
        body = "\n".join([text] * bool(text) + [clip(c, limit) for c in calls])
        lines.append(f"{role.upper()}: {body or '(empty)'}")
    return "\n\n".join(lines)
