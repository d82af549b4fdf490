"""Extractors for conversational kinds: trajectory and preference_pair, plus generic records."""

from __future__ import annotations

from typing import Any

from synth.report.spec import (
    LOSS_FLAGS,
    MAX_DYNAMIC,
    Obs,
    as_dict,
    as_list,
    as_str,
    cat,
    matrix,
    num,
    provenance,
    scalars,
)

# -- trajectory -------------------------------------------------------------------------------------------
T_MESSAGES = num("messages", "messages per trajectory")
T_TURNS = num("turns", "assistant turns per trajectory")
T_CALLS = num("tool_calls", "tool calls per trajectory")
T_TOOLS = cat("tools", "tool calls by tool", per="call")
T_FLAGS = cat("loss_flags", "assistant loss flags", per="assistant message", order=LOSS_FLAGS)
T_RATIO = num("loss_ratio", "share of assistant turns with loss=1", ratio=True)
T_WEIGHT = num("weight", "loss weight of assistant messages", per="assistant message", integer=False)
T_LABELS = cat("turn_labels", "turn labels", per="labelled message")
T_LABEL_LOSS = matrix("label_loss", "turn label × loss flag", per="labelled message", order=LOSS_FLAGS)
T_JUDGES = cat("label_judges", "turn-label judges", per="labelled message")
T_CORRECT = cat("correct", "answer judged correct", order=("true", "false", "(none)"))
T_METHOD = cat("judge_method", "answer judge method")
T_POLICY = cat("context_policy", "context policy")
T_FORMAT = cat("source_format", "source format")
T_CHARS = num("chars", "text per trajectory (chars)")


def _flag(message: dict) -> str:
    loss = message.get("loss")
    return "unlabelled" if loss not in (0, 1) or isinstance(loss, bool) else f"loss={loss}"


def trajectory(r: dict) -> Obs:
    messages = [as_dict(m) for m in as_list(r.get("messages"))]
    assistant = [m for m in messages if m.get("role") == "assistant"]
    yield T_MESSAGES, len(messages)
    yield T_TURNS, len(assistant)
    calls = [as_dict(c) for m in assistant for c in as_list(m.get("tool_calls"))]
    yield T_CALLS, len(calls)
    for call in calls:
        yield T_TOOLS, as_dict(call.get("function")).get("name")
    flags = [_flag(m) for m in assistant]
    for flag in flags:
        yield T_FLAGS, flag
    labelled = [f for f in flags if f != "unlabelled"]
    if labelled:
        yield T_RATIO, labelled.count("loss=1") / len(labelled)
    yield from _turn_labels(messages)
    judgement = as_dict(r.get("judgement"))
    if judgement:
        yield T_CORRECT, judgement.get("correct")
        if judgement.get("method"):
            yield T_METHOD, judgement["method"]
    for spec, field in ((T_POLICY, "context_policy"), (T_FORMAT, "source_format")):
        if r.get(field):
            yield spec, r[field]
    yield T_CHARS, sum(len(as_str(m.get("content"))) + len(as_str(m.get("reasoning_content"))) for m in messages)
    yield from provenance(r)


def _turn_labels(messages: list[dict]) -> Obs:
    for m in messages:
        if m.get("role") == "assistant" and m.get("weight") is not None:
            yield T_WEIGHT, m["weight"]
        label = as_dict(m.get("turn_label"))
        if not label:
            continue
        yield T_LABELS, label.get("label")
        yield T_LABEL_LOSS, (label.get("label"), _flag(m))
        if label.get("judge"):
            yield T_JUDGES, label["judge"]
        yield from scalars("score", as_dict(label.get("scores")), per="labelled message")


# -- preference_pair --------------------------------------------------------------------------------------
P_METHOD = cat("method", "judge method")
P_JUDGE = cat("judge", "judge")
P_MARGIN = num("margin", "judge margin", integer=False)
P_VERDICTS = num("verdicts", "verdicts per pair")
P_PROMPT = num("prompt_messages", "prompt messages per pair")
P_CHOSEN = num("chosen_chars", "chosen response length (chars)")
P_REJECTED = num("rejected_chars", "rejected response length (chars)")


def _chars(messages: Any) -> int:
    return sum(len(as_str(as_dict(m).get("content"))) for m in as_list(messages))


def preference_pair(r: dict) -> Obs:
    for spec, field in ((P_METHOD, "method"), (P_JUDGE, "judge")):
        if r.get(field):
            yield spec, r[field]
    if r.get("margin") is not None:
        yield P_MARGIN, r["margin"]
    if r.get("verdicts") is not None:
        yield P_VERDICTS, len(as_list(r.get("verdicts")))
    for verdict in as_list(r.get("verdicts")):
        yield from scalars("verdict", as_dict(verdict), per="verdict")
    yield P_PROMPT, len(as_list(r.get("prompt")))
    yield P_CHOSEN, _chars(r.get("chosen"))
    yield P_REJECTED, _chars(r.get("rejected"))
    yield from provenance(r)


# -- generic ----------------------------------------------------------------------------------------------
G_FIELDS = cat("fields", "fields present", per="field")
G_NFIELDS = num("n_fields", "fields per record")


def generic(r: dict) -> Obs:
    yield G_NFIELDS, len(r)
    for key in list(r)[: MAX_DYNAMIC * 4]:
        yield G_FIELDS, key
