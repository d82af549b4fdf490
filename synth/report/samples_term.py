"""Sample records pretty-printed in the terminal, one renderer per kind.

A trajectory is shown turn by turn — one panel per message with its role, tool calls, loss flag, weight
and turn label — because that is what a data engineer checks before training on it. Long texts are
clipped to `max_chars`; long trajectories show their first and last turns.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.pretty import Pretty
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from synth.report import fmt
from synth.report.spec import as_dict, as_list

ROLE_STYLE = {"system": "white", "user": "blue", "assistant": "green", "tool": "yellow"}
MAX_MESSAGES = 14  # shown per trajectory: first half and last half


def render_sample(kind: str, record: dict, max_chars: int = 600) -> RenderableType:
    renderer = {"trajectory": trajectory, "deepsearch_task": deepsearch_task, "code_problem": code_problem,
                "preference_pair": preference_pair}.get(kind, generic)
    try:
        return renderer(record, max_chars)
    except (TypeError, ValueError, AttributeError, KeyError):  # an off-schema record: show it raw
        return generic(record, max_chars)


def message_badges(message: dict) -> str:
    """'loss=1 · w=0.5 · essential (rule)' — the supervision a message carries, shared with the HTML view."""
    parts = []
    if message.get("loss") in (0, 1) and message.get("role") == "assistant":  # others never carry loss
        parts.append(f"loss={message['loss']}")
    if message.get("weight") is not None:
        parts.append(f"w={fmt.number(message['weight'])}")
    label = as_dict(message.get("turn_label"))
    if label:
        parts.append(f"{label.get('label')} ({label.get('judge', '?')})")
    return " · ".join(parts)


def shown_messages(messages: list) -> list[tuple[int, dict] | int]:
    """(index, message) pairs to show, with an int standing for 'that many omitted here'."""
    if len(messages) <= MAX_MESSAGES:
        return list(enumerate(messages))
    head, tail = MAX_MESSAGES // 2, MAX_MESSAGES - MAX_MESSAGES // 2
    return [*enumerate(messages[:head]), len(messages) - head - tail,
            *((len(messages) - tail + i, m) for i, m in enumerate(messages[-tail:]))]


def tool_call_text(call: dict) -> str:
    fn = as_dict(call.get("function"))
    return f"→ {fn.get('name')}({fn.get('arguments', '')})"


def _message(i: int, m: dict, max_chars: int) -> Panel:
    role = str(m.get("role"))
    title = f"[{i}] {role}" + (f" · {m['name']}" if m.get("name") else "")
    badges = message_badges(m)
    if badges:
        title += f"  [bold]{badges}[/bold]"
    body: list[RenderableType] = []
    if m.get("reasoning_content"):
        body.append(Text(fmt.clip(m["reasoning_content"], max_chars), style="dim italic"))
    if m.get("content"):
        body.append(Text(fmt.clip(m["content"], max_chars)))
    for call in as_list(m.get("tool_calls")):
        body.append(Text(fmt.clip(tool_call_text(as_dict(call)), max_chars), style="cyan"))
    label = as_dict(m.get("turn_label"))
    subtitle = None
    if label.get("reason") or label.get("scores"):
        scores = ", ".join(f"{k}={fmt.number(v)}" for k, v in as_dict(label.get("scores")).items())
        subtitle = fmt.clip(" · ".join(x for x in (label.get("reason"), scores) if x), 120)
    dim = m.get("loss") == 0 and role == "assistant"  # a turn the trainer will not learn from
    return Panel(Group(*body) if body else Text("(empty)", style="dim"), title=title, title_align="left",
                 subtitle=subtitle, subtitle_align="right",
                 border_style="bright_black" if dim else ROLE_STYLE.get(role, "white"))


def trajectory(r: dict, max_chars: int) -> RenderableType:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    for key in ("question", "answer", "predicted_answer", "context_policy", "source_format"):
        if r.get(key):
            head.add_row(key, fmt.clip(r[key], max_chars))
    judgement = as_dict(r.get("judgement"))
    if judgement:
        head.add_row("judgement", f"correct={judgement.get('correct')} ({judgement.get('method')})")
    parts: list[RenderableType] = [head]
    for item in shown_messages(as_list(r.get("messages"))):
        if isinstance(item, int):
            parts.append(Text(f"… {item} messages omitted …", style="dim"))
        else:
            parts.append(_message(item[0], as_dict(item[1]), max_chars))
    return Panel(Group(*parts), title=f"trajectory {r.get('id')}", border_style="cyan")


def deepsearch_task(r: dict, max_chars: int) -> RenderableType:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("question", fmt.clip(r.get("question"), max_chars))
    answer = str(r.get("answer")) + (f"  (aliases: {', '.join(map(str, as_list(r.get('aliases'))))})" if r.get("aliases") else "")
    head.add_row("answer", answer)
    head.add_row("shape", f"tier={r.get('tier')} hops={r.get('hops')} topology={r.get('topology')}")
    checks = as_dict(r.get("verification"))
    head.add_row("verification", ", ".join(f"{k}={as_dict(v).get('status', v)}" for k, v in checks.items()) or "-")
    ops = [as_dict(o).get("op") for o in as_list(r.get("operators"))]
    if ops:
        head.add_row("operators", ", ".join(map(str, ops)))
    facts = Table("subject", "relation", "object", "doc", "quote", title="facts", title_justify="left")
    for f in as_list(r.get("facts")):
        f = as_dict(f)
        facts.add_row(*(fmt.clip(f.get(k), 40) for k in ("subject", "relation", "object", "doc_id")),
                      fmt.clip(f.get("quote"), 120))
    return Panel(Group(head, facts), title=f"deepsearch_task {r.get('id')}", border_style="cyan")


def code_problem(r: dict, max_chars: int) -> RenderableType:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("prompt", fmt.clip(r.get("prompt"), max_chars))
    cx = as_dict(r.get("complexity"))
    head.add_row("shape", f"style={r.get('style')} entry={r.get('entry_point')} class={cx.get('class')} "
                          f"mutation={fmt.number(r.get('mutation_score'))} tests={len(as_list(r.get('tests')))}")
    tests = Table("input", "expected", title="tests (first 5)", title_justify="left")
    for t in as_list(r.get("tests"))[:5]:
        tests.add_row(fmt.clip(as_dict(t).get("input"), 60), fmt.clip(as_dict(t).get("expected"), 60))
    code = "\n".join(str(r.get("reference_solution", "")).splitlines()[:30])
    return Panel(Group(head, Syntax(code, "python", line_numbers=True), tests),
                 title=f"code_problem {r.get('id')}", border_style="cyan")


def _conversation(messages: Any, max_chars: int) -> RenderableType:
    return Group(*(Text(f"{as_dict(m).get('role')}: {fmt.clip(as_dict(m).get('content'), max_chars)}")
                   for m in as_list(messages)))


def preference_pair(r: dict, max_chars: int) -> RenderableType:
    head = Text(f"method={r.get('method')} judge={r.get('judge')} margin={fmt.number(r.get('margin'))}", style="bold")
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(Panel(_conversation(r.get("chosen"), max_chars), title="chosen", border_style="green"),
                 Panel(_conversation(r.get("rejected"), max_chars), title="rejected", border_style="red"))
    verdicts = [fmt.clip(json.dumps(v, ensure_ascii=False), 200) for v in as_list(r.get("verdicts"))[:4]]
    return Panel(Group(head, Panel(_conversation(r.get("prompt"), max_chars), title="prompt"), grid,
                       *(Text(v, style="dim") for v in verdicts)), title=f"preference_pair {r.get('id')}",
                 border_style="cyan")


def generic(r: dict, max_chars: int) -> RenderableType:
    clipped = {k: fmt.clip(v, max_chars) if isinstance(v, str) else v for k, v in r.items()} if isinstance(r, dict) else r
    return Panel(Pretty(clipped, max_length=20, max_string=max_chars), title=f"record {as_dict(r).get('id', '')}",
                 border_style="cyan")
