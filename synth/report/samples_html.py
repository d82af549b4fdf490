"""Sample records as HTML: the same views as the terminal (synth/report/samples_term.py), as static markup.

Every string from a record is escaped. A trajectory is a column of message cards with the role, tool
calls, loss flag, weight and turn label (and the label's reason and scores) of each turn.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from synth.report import fmt
from synth.report.samples_term import message_badges, shown_messages, tool_call_text
from synth.report.spec import as_dict, as_list


def sample(kind: str, record: dict, max_chars: int) -> str:
    renderer = {"trajectory": trajectory, "deepsearch_task": deepsearch_task, "code_problem": code_problem,
                "preference_pair": preference_pair}.get(kind, generic)
    try:
        return renderer(record, max_chars)
    except (TypeError, ValueError, AttributeError, KeyError):
        return generic(record, max_chars)


def _e(value: Any, limit: int) -> str:
    return escape(fmt.clip(value, limit))


def _fields(rows: list[tuple[str, Any]], limit: int) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{_e(v, limit)}</td></tr>" for k, v in rows if v not in (None, "", []))
    return f'<table class="fields">{cells}</table>'


def _message(i: int, m: dict, max_chars: int) -> str:
    role = escape(str(m.get("role")))
    label = as_dict(m.get("turn_label"))
    badges = []
    if m.get("loss") in (0, 1) and m.get("role") == "assistant":  # other roles never carry loss
        badges.append(f'<span class="badge loss{m["loss"]}">loss={m["loss"]}</span>')
    if m.get("weight") is not None:
        badges.append(f'<span class="badge">w={escape(fmt.number(m["weight"]))}</span>')
    if label:
        badges.append(f'<span class="badge label">{escape(str(label.get("label")))} '
                      f'<small>({escape(str(label.get("judge", "?")))})</small></span>')
    parts = []
    if m.get("reasoning_content"):
        parts.append(f'<div class="reasoning">{_e(m["reasoning_content"], max_chars)}</div>')
    if m.get("content"):
        parts.append(f'<div class="content">{_e(m["content"], max_chars)}</div>')
    for call in as_list(m.get("tool_calls")):
        parts.append(f'<div class="call">{_e(tool_call_text(as_dict(call)), max_chars)}</div>')
    if label.get("reason") or label.get("scores"):
        scores = ", ".join(f"{k}={fmt.number(v)}" for k, v in as_dict(label.get("scores")).items())
        parts.append(f'<div class="why">{_e(" · ".join(x for x in (label.get("reason"), scores) if x), 300)}</div>')
    muted = " muted" if m.get("loss") == 0 and m.get("role") == "assistant" else ""
    name = f' · {escape(str(m["name"]))}' if m.get("name") else ""
    return (f'<div class="msg {role}{muted}" title="{escape(message_badges(m))}"><div class="msghead">'
            f'<b>[{i}] {role}</b>{name} {"".join(badges)}</div>{"".join(parts) or "<i>(empty)</i>"}</div>')


def trajectory(r: dict, max_chars: int) -> str:
    judgement = as_dict(r.get("judgement"))
    head = _fields([("question", r.get("question")), ("answer", r.get("answer")),
                    ("predicted", r.get("predicted_answer")), ("context policy", r.get("context_policy")),
                    ("source format", r.get("source_format")),
                    ("judgement", f"correct={judgement.get('correct')} ({judgement.get('method')})" if judgement else None)],
                   max_chars)
    turns = []
    for item in shown_messages(as_list(r.get("messages"))):
        if isinstance(item, int):
            turns.append(f'<div class="omitted">… {item} messages omitted …</div>')
        else:
            turns.append(_message(item[0], as_dict(item[1]), max_chars))
    return _card(f"trajectory {r.get('id')}", head + f'<div class="turns">{"".join(turns)}</div>')


def deepsearch_task(r: dict, max_chars: int) -> str:
    checks = ", ".join(f"{k}={as_dict(v).get('status', v)}" for k, v in as_dict(r.get("verification")).items())
    head = _fields([("question", r.get("question")), ("answer", r.get("answer")),
                    ("aliases", ", ".join(map(str, as_list(r.get("aliases"))))),
                    ("shape", f"tier={r.get('tier')} hops={r.get('hops')} topology={r.get('topology')}"),
                    ("verification", checks),
                    ("operators", ", ".join(str(as_dict(o).get("op")) for o in as_list(r.get("operators"))))], max_chars)
    rows = "".join("<tr>" + "".join(f"<td>{_e(as_dict(f).get(k), 160)}</td>" for k in
                                    ("subject", "relation", "object", "doc_id", "quote")) + "</tr>"
                   for f in as_list(r.get("facts")))
    facts = ('<table class="grid"><tr><th>subject</th><th>relation</th><th>object</th><th>doc</th><th>quote</th></tr>'
             f"{rows}</table>")
    return _card(f"deepsearch_task {r.get('id')}", head + facts)


def code_problem(r: dict, max_chars: int) -> str:
    cx = as_dict(r.get("complexity"))
    head = _fields([("prompt", r.get("prompt")),
                    ("shape", (f"style={r.get('style')} entry={r.get('entry_point')} class={cx.get('class')} "
                              f"mutation={fmt.number(r.get('mutation_score'))} tests={len(as_list(r.get('tests')))}"))],
                   max_chars)
    code = "\n".join(str(r.get("reference_solution", "")).splitlines()[:40])
    rows = "".join(f"<tr><td>{_e(as_dict(t).get('input'), 80)}</td><td>{_e(as_dict(t).get('expected'), 80)}</td></tr>"
                   for t in as_list(r.get("tests"))[:5])
    tests = f'<table class="grid"><tr><th>test input</th><th>expected</th></tr>{rows}</table>'
    return _card(f"code_problem {r.get('id')}", head + f"<pre>{escape(code)}</pre>" + tests)


def _conversation(messages: Any, max_chars: int) -> str:
    return "".join(f'<div class="content"><b>{escape(str(as_dict(m).get("role")))}:</b> '
                   f'{_e(as_dict(m).get("content"), max_chars)}</div>' for m in as_list(messages))


def preference_pair(r: dict, max_chars: int) -> str:
    head = _fields([("method", r.get("method")), ("judge", r.get("judge")), ("margin", fmt.number(r.get("margin")))],
                   max_chars)
    pair = (f'<div class="pair"><div class="msg user">{_conversation(r.get("prompt"), max_chars)}</div>'
            f'<div class="sides"><div class="msg chosen"><div class="msghead"><b>chosen</b></div>'
            f'{_conversation(r.get("chosen"), max_chars)}</div><div class="msg rejected"><div class="msghead">'
            f'<b>rejected</b></div>{_conversation(r.get("rejected"), max_chars)}</div></div></div>')
    verdicts = "".join(f'<div class="why">{_e(json.dumps(v, ensure_ascii=False), 300)}</div>'
                       for v in as_list(r.get("verdicts"))[:4])
    return _card(f"preference_pair {r.get('id')}", head + pair + verdicts)


def generic(r: Any, max_chars: int) -> str:
    text = json.dumps(r, ensure_ascii=False, indent=2, default=str)
    return _card(f"record {as_dict(r).get('id', '')}", f"<pre>{_e(text, max_chars * 4)}</pre>")


def reject(r: dict, max_chars: int) -> str:
    body = _fields([("reason", r.get("reason")), ("step", r.get("step")), ("detail", r.get("detail")),
                    ("raw", r.get("raw"))], max_chars)
    return _card(f"reject {r.get('id')}", body, cls="card reject")


def _card(title: str, body: str, cls: str = "card") -> str:
    return f'<div class="{cls}"><h3>{escape(title)}</h3>{body}</div>'
