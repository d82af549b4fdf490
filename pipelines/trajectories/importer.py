"""Real-world agent trajectories -> canonical trajectory records (`synth import --kind trajectory --from F`).

Sources and their quirks (tests/data/shared/SOURCES.md):
  openai     a record with `messages` (MiroFlow's debug log is a bare JSON list of messages: staged into
             one record), or a tau-bench record {task_id, trial, reward, info, traj}. `developer` becomes
             `system`; content given as a list of parts becomes text; tool messages get the name of the
             call they answer; tau-bench's reused tool_call_ids are kept (pairing is positional).
  hermes     WebDancer: {messages, functions (qwen-agent style), answer [[...]]}; tool results come back
             as user messages in <tool_response>; the prompt's example <tool_call> block is not JSON and
             stays prompt text.
  mcp_xml    MiroFlow: {message_history, final_boxed_answer, summary}; results are raw user messages,
             some content is a list of parts, some results are ~100 KB.
  search_r1  a rendered ChatML transcript (<|im_start|>...) with <search> in the assistant text and the
             retrieved docs inline in <information>; a .txt file is staged into one record per transcript.
  auto       decided per record by `detect_source`.
Failures are `ConversionError(reason, detail)`; the import step turns them into rejects.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from synth.pipelines.trajectories import formats
from synth.pipelines.trajectories.messages import ROLES, canonical, final_answer, split_think, turns

from synth.dataset import parse_json
from synth.errors import InputError
from synth.records import Reject
from synth.steps import RecordStep

SOURCES = ("openai", "hermes", "mcp_xml", "search_r1", "auto")
KNOWN = {"id", "task_id", "messages", "tools", "question", "answer", "aliases", "predicted_answer", "judgement",
         "context_policy", "source_format", "metadata", "provenance", "evidence", "environment"}
_IM = re.compile(r"<\|im_start\|>(\w+)\n(.*?)(?:<\|im_end\|>|(?=<\|im_start\|>)|\Z)", re.DOTALL)
_INFO = re.compile(r"<information>(.*?)</information>", re.DOTALL)
_SEARCH = re.compile(r"<search>(.*?)</search>", re.DOTALL)


class ConversionError(ValueError):
    def __init__(self, reason: str, detail: str):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


def detect_source(record: dict) -> str:
    if "traj" in record or "message_history" in record:
        return "openai" if "traj" in record else "mcp_xml"
    if isinstance(record.get("text"), str) and "<|im_start|>" in record["text"]:
        return "search_r1"
    messages = record.get("messages")
    if not isinstance(messages, list):
        raise ConversionError("not_a_trajectory", "no 'messages', 'message_history', 'traj' or transcript 'text'")
    return formats.detect([flatten(m, i) for i, m in enumerate(messages)])


def flatten(message: dict, index: int) -> dict:
    """One source message -> {role, content, ...}: parts lists joined, `developer` -> `system`."""
    if not isinstance(message, dict):
        raise ConversionError("malformed_message", f"messages[{index}] is {type(message).__name__}, not an object")
    out = _legacy_function(dict(message), index)
    role = out.get("role")
    out["role"] = "system" if role == "developer" else role
    if not isinstance(out["role"], str) or out["role"] not in ROLES:
        raise ConversionError("unknown_role", f"messages[{index}].role = {role!r}"[:300])
    _check_calls(out.get("tool_calls"), index)
    content = out.get("content")
    if isinstance(content, list):
        texts = [p.get("text") if isinstance(p, dict) else p for p in content]
        if not all(isinstance(t, str) for t in texts):
            raise ConversionError("unsupported_content", f"messages[{index}].content has non-text parts")
        out["content"] = "".join(texts)
    elif content is not None and not isinstance(content, str):
        out["content"] = json.dumps(content, ensure_ascii=False)
    return out


def _legacy_function(message: dict, index: int) -> dict:
    """Legacy OpenAI function calling: role `function` is a tool result, an assistant `function_call` a tool call
    (results pair with calls by position, so the ids only have to be unique)."""
    if message.get("role") == "function":
        message["role"] = "tool"
    call = message.pop("function_call", None)
    if call is not None:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ConversionError("malformed_message", f"messages[{index}].function_call is not {{name, arguments}}")
        message["tool_calls"] = [*(message.get("tool_calls") or []),
                                 {"id": f"call_fn_{index}", "type": "function",
                                  "function": {"name": call["name"], "arguments": call.get("arguments") or "{}"}}]
    return message


def _check_calls(calls, index: int) -> None:
    """Tool calls must be a list of objects whose `function` (if any) is an object: every converter reads
    them that way, so another shape is a malformed source record, not a crash."""
    if calls is None:
        return
    if not isinstance(calls, list) or not all(isinstance(c, dict) and isinstance(c.get("function") or {}, dict)
                                              for c in calls):
        raise ConversionError("malformed_message", f"messages[{index}].tool_calls is not a list of "
                                                   "{id, function: {name, arguments}} objects")


def _name_tool_results(messages: list[dict]) -> list[dict]:
    out = [dict(m) for m in messages]
    for turn in turns(out):
        for step in turn.steps:
            if step.result_index is not None and not out[step.result_index].get("name"):
                out[step.result_index]["name"] = step.call["function"]["name"]
    return out


def _openai_messages(raw: list) -> list[dict]:
    return _name_tool_results(canonical([flatten(m, i) for i, m in enumerate(raw)]))


def _tools(record: dict) -> list[dict] | None:
    """OpenAI tool definitions from `tools` or qwen-agent `functions` (name_for_model, description_for_model)."""
    if isinstance(record.get("tools"), list):
        return record["tools"]
    functions = record.get("functions")
    if not isinstance(functions, list) or not functions:
        return None
    if not all(isinstance(fn, dict) for fn in functions):
        raise ConversionError("malformed_tools", "'functions' must be a list of objects")
    out = []
    for fn in functions:
        name = fn.get("name_for_model") or fn.get("name")
        out.append({"type": "function", "function": {
            "name": name, "description": fn.get("description_for_model") or fn.get("description") or "",
            "parameters": fn.get("parameters") or {"type": "object", "properties": {}}}})
    return out


def _answers(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [a for v in value for a in _answers(v)]
    return []


def _question(messages: list[dict]) -> str | None:
    users = [m.get("content") for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)]
    if not users:
        return None
    text = users[0]
    for marker in ("\nUser: ", "Question: "):  # WebDancer's and Search-R1's prompt layouts
        if marker in text:
            return text.rsplit(marker, 1)[1].strip()
    return text.strip()


def _base(record: dict, messages: list[dict], source: str, tools=None) -> dict:
    answers = _answers(record.get("answer"))
    rest = {k: v for k, v in record.items() if k not in KNOWN and k not in ("functions", "message_history", "traj", "text")}
    out = {
        "id": str(record["id"]) if record.get("id") not in (None, "") else None,
        "task_id": str(record["task_id"]) if record.get("task_id") is not None else None,
        "messages": messages, "tools": tools if tools is not None else _tools(record),
        "question": record.get("question") if isinstance(record.get("question"), str) else _question(messages),
        "answer": answers[0] if answers else None,
        "aliases": (answers[1:] or None) if answers else record.get("aliases"),
        "predicted_answer": final_answer(messages), "source_format": source,
        "metadata": {**(record.get("metadata") or {}), **rest} or None,
        "provenance": {"command": "import", "mode": "imported"},
    }
    for key in ("judgement", "context_policy", "evidence", "environment"):
        if record.get(key) is not None:
            out[key] = record[key]
    return {k: v for k, v in out.items() if v is not None}


def _from_openai(record: dict) -> dict:
    if "traj" in record:  # tau-bench
        info = record.get("info") or {}
        task = info.get("task") or {} if isinstance(info, dict) else {}
        if not isinstance(task, dict):
            raise ConversionError("not_a_trajectory", "tau-bench 'info.task' is not an object")
        messages = _openai_messages(_messages(record, "traj"))
        meta = {"source": "tau-bench", "trial": record.get("trial"), "reward": record.get("reward"),
                "user_id": task.get("user_id"), "gold_actions": task.get("actions"), "outputs": task.get("outputs")}
        base = {"task_id": record.get("task_id"), "question": task.get("instruction"), "metadata": meta}
        return _base(base, messages, "openai")
    return _base(record, _openai_messages(_messages(record)), "openai")


def _messages(record: dict, key: str = "messages") -> list:
    raw = record.get(key)
    if not isinstance(raw, list) or not raw:
        raise ConversionError("not_a_trajectory", f"'{key}' is missing or empty")
    return raw


def _from_text(record: dict, source: str, key: str = "messages") -> dict:
    flat = [flatten(m, i) for i, m in enumerate(_messages(record, key))]
    messages = _name_tool_results(formats.decode(flat, source))
    out = _base(record, messages, source)
    if isinstance(record.get("final_boxed_answer"), str):  # MiroFlow's own extraction of the final answer
        out["predicted_answer"] = record["final_boxed_answer"]
    return out


def _search_r1_assistant(text: str, ordinal: int) -> list[dict]:
    """One Search-R1 assistant segment -> assistant/tool messages (each <search> + <information> a call)."""
    pieces = _INFO.split(text)
    out = []
    for n in range(0, len(pieces) - 1, 2):
        reasoning, rest = split_think(pieces[n].strip("\n"))
        query = _SEARCH.search(rest)
        if query is None:
            raise ConversionError("malformed_search_r1", f"<information> without a <search> before it (turn {ordinal})")
        content = (rest[:query.start()] + rest[query.end():]).strip()
        call = {"id": f"call_{ordinal}_0", "type": "function",
                "function": {"name": "search", "arguments": json.dumps({"query": query.group(1).strip()})}}
        out.append({k: v for k, v in (("role", "assistant"), ("content", content or None),
                                      ("reasoning_content", reasoning), ("tool_calls", [call])) if v is not None})
        out.append({"role": "tool", "tool_call_id": call["id"], "name": "search", "content": pieces[n + 1].strip()})
        ordinal += 1
    reasoning, rest = split_think(pieces[-1].strip("\n"))
    out.append({k: v for k, v in (("role", "assistant"), ("content", rest.strip()),
                                  ("reasoning_content", reasoning)) if v is not None})
    return out


def _from_search_r1(record: dict) -> dict:
    text = record.get("text")
    if not isinstance(text, str):
        raise ConversionError("not_a_trajectory", "search_r1 records hold the transcript in 'text'")
    messages: list[dict] = []
    for role, body in _IM.findall(text):
        if role == "assistant":
            ordinal = sum(1 for m in messages if m["role"] == "assistant")
            messages.extend(_search_r1_assistant(body, ordinal))
        else:
            messages.append({"role": role, "content": body.rstrip("\n")})
    if not any(m["role"] == "assistant" for m in messages):
        raise ConversionError("not_a_trajectory", "no <|im_start|>assistant turn in the transcript")
    search = {"type": "function", "function": {"name": "search", "description": "Search engine (Search-R1).",
                                               "parameters": {"type": "object", "required": ["query"],
                                                              "properties": {"query": {"type": "string"}}}}}
    base = {k: v for k, v in record.items() if k != "text"}
    return _base(base, messages, "search_r1", tools=[search])


def convert_record(record: dict, source: str = "auto") -> dict:
    """A source record -> a trajectory record (without an id when the source has none)."""
    source = detect_source(record) if source == "auto" else source
    if source == "openai":
        return _from_openai(record)
    if source in ("hermes", "mcp_xml"):
        return _from_text(record, source, "message_history" if "message_history" in record else "messages")
    if source == "search_r1":
        return _from_search_r1(record)
    raise ConversionError("unknown_format", f"--from must be one of {', '.join(SOURCES)}, got {source!r}")


# -- files that are not one-record-per-row: staged as JSONL before the import runs ------------------------
def split_transcripts(text: str) -> list[str]:
    """A Search-R1 case file may hold several transcripts; each starts with a system turn."""
    starts = [m.start() for m in re.finditer(r"<\|im_start\|>system\n", text)] or [0]
    return [text[a:b].strip("\n") for a, b in zip(starts, starts[1:] + [len(text)]) if text[a:b].strip()]


def _staged_rows(path: Path) -> list[dict] | None:
    if path.suffix == ".txt":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(str(path), None, f"invalid UTF-8 at byte {exc.start}") from None
        return [{"text": t, "metadata": {"source_file": path.name, "transcript": i}}
                for i, t in enumerate(split_transcripts(text))]
    if path.suffix == ".json":
        try:
            data = parse_json(path.read_bytes(), path, None)
        except InputError:
            return None  # the reader reports malformed JSON (and invalid UTF-8) with its line and column
        if isinstance(data, list) and data and all(isinstance(m, dict) and "role" in m for m in data):
            return [{"messages": data, "metadata": {"source_file": path.name}}]
    return None


def stage_inputs(inputs: list[str], folder: Path) -> list[str]:
    """Inputs with bare message lists (.json) and transcripts (.txt) rewritten as JSONL under `folder`;
    every other input is returned as is. Deterministic, so the config hash and resume are stable."""
    out = []
    for item in inputs:
        path = Path(item)
        rows = _staged_rows(path) if path.is_file() else None
        if rows is None:
            out.append(item)
            continue
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
        target = folder / f"{path.stem}.{digest}.jsonl"
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(body, encoding="utf-8")
            tmp.replace(target)
        out.append(str(target))
    return out



class ConvertTrajectory(RecordStep):
    """The import step: a source record -> a trajectory record, or a reject with the converter's reason."""

    name = "convert trajectory"

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def process(self, record: dict):
        try:
            return convert_record(record, self.source)
        except ConversionError as exc:
            return Reject(exc.reason, exc.detail[:500])
