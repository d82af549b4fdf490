"""Lossless conversion between the three tool-call formats: openai, hermes (Qwen text), mcp_xml.

The canonical form is OpenAI messages. A text format cannot express everything an OpenAI trajectory
can (call ids other than `call_{turn}_{i}`, `content: ""` next to a call, a tool message without a name,
text that itself contains `<tool_call>` markup...). Each encoding therefore decodes its own output and
compares: whatever differs is stored as a small patch beside the text messages (`lossless`), and decoding
applies it. Ordinary trajectories need no patch at all (tests assert this); unusual ones still round-trip
exactly, through any chain of formats.

    text, lossless = encode(messages, "hermes")
    assert canonical(decode(text, "hermes", lossless)) == canonical(messages)
"""

from __future__ import annotations

from collections.abc import Callable

from synth.pipelines.trajectories import hermes, mcp
from synth.pipelines.trajectories.messages import canonical, clean_message

FORMATS = ("openai", "hermes", "mcp_xml")
_ENCODE: dict[str, Callable[[list[dict]], list[dict]]] = {"hermes": hermes.to_hermes, "mcp_xml": mcp.to_mcp}
_DECODE: dict[str, Callable[[list[dict]], list[dict]]] = {"hermes": hermes.from_hermes, "mcp_xml": mcp.from_mcp}


def _diff(want: list[dict], got: list[dict]) -> dict | None:
    if want == got:
        return None
    if len(want) != len(got):
        return {"messages": want}  # the text changed the message structure: keep the original whole
    patch = []
    for i, (w, g) in enumerate(zip(want, got)):
        if w == g:
            continue
        entry: dict = {"i": i}
        changed = {k: v for k, v in w.items() if g.get(k) != v}
        removed = sorted(k for k in g if k not in w)
        if changed:
            entry["set"] = changed
        if removed:
            entry["unset"] = removed
        patch.append(entry)
    return {"patch": patch}


def _apply(messages: list[dict], lossless: dict | None) -> list[dict]:
    if not lossless:
        return messages
    if "messages" in lossless:
        return canonical(lossless["messages"])
    out = [dict(m) for m in messages]
    for entry in lossless.get("patch") or []:
        target = out[entry["i"]]
        for key in entry.get("unset") or []:
            target.pop(key, None)
        target.update(entry.get("set") or {})
        out[entry["i"]] = clean_message(target)
    return out


def _text_view(messages: list[dict]) -> list[dict]:
    """Only what a text format carries: supervision fields (loss, weight, turn_label) ride on the patch."""
    return [{k: v for k, v in m.items() if k not in ("loss", "weight", "turn_label")} for m in messages]


def encode(messages: list[dict], fmt: str) -> tuple[list[dict], dict | None]:
    """OpenAI messages -> (messages in `fmt`, lossless patch or None)."""
    want = canonical(messages)
    if fmt == "openai":
        return want, None
    text = _ENCODE[fmt](_text_view(want))
    return text, _diff(want, canonical(_DECODE[fmt](text)))


def render(messages: list[dict], fmt: str) -> list[dict]:
    """Just the text form (no lossless patch): what a model is shown each turn."""
    return canonical(messages) if fmt == "openai" else _ENCODE[fmt](_text_view(canonical(messages)))


def decode(messages: list[dict], fmt: str, lossless: dict | None = None) -> list[dict]:
    """Messages in `fmt` (+ the patch `encode` returned) -> canonical OpenAI messages."""
    if fmt == "openai":
        return _apply(canonical(messages), lossless)
    return _apply(canonical(_DECODE[fmt](messages)), lossless)


def convert(messages: list[dict], source: str, target: str, lossless: dict | None = None
            ) -> tuple[list[dict], dict | None]:
    """Any format -> any format, through the canonical OpenAI form."""
    if source not in FORMATS or target not in FORMATS:
        raise ValueError(f"formats are {', '.join(FORMATS)}; got {source!r} -> {target!r}")
    return encode(decode(messages, source, lossless), target)


def detect(messages: list[dict]) -> str:
    """Which format a message list is in: native calls -> openai; <tool_call> text -> hermes;
    <use_mcp_tool> text -> mcp_xml; a plain chat (no calls at all) -> openai."""
    texts = [m.get("content") for m in messages if m.get("role") == "assistant" and isinstance(m.get("content"), str)]
    if any(m.get("tool_calls") for m in messages) or any(m.get("role") == "tool" for m in messages):
        return "openai"
    if any("<tool_call>" in t for t in texts):
        return "hermes"
    if any("<use_mcp_tool>" in t for t in texts):
        return "mcp_xml"
    return "openai"
