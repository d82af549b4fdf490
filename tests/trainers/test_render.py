"""Chat-template span mapping: exactly the loss-1 assistant turns are supervised, for any template."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from synth.trainers.render import ChatRenderer, RenderError

from tests.trainers.trainer_data import TOOLS, trajectory

HERE = Path(__file__).parent


def supervised_text(tok, sample) -> str:
    """Decoded targets with loss, one string per run of consecutive supervised positions."""
    runs, current = [], []
    for t in range(len(sample) - 1):
        if sample.weights[t] > 0:
            current.append(int(sample.ids[t + 1]))
        elif current:
            runs.append(tok.decode(current))
            current = []
    if current:
        runs.append(tok.decode(current))
    return runs


def test_chatml_supervises_exactly_loss_one_assistant_turns(tokenizer):
    record = trajectory(random.Random(3), 0, turns=3)
    for m, loss in zip([m for m in record["messages"] if m["role"] == "assistant"], [1, 0, 1, 1]):
        m["loss"] = loss
    [sample] = ChatRenderer(tokenizer).sft(record, 4096)
    expected = []
    for m in record["messages"]:
        if m["role"] == "assistant" and m["loss"]:
            think = f"<think>\n{m['reasoning_content']}\n</think>\n\n" if m.get("reasoning_content") else ""
            calls = "".join(f'<tool_call>\n{{"name": "search", "arguments": {c["function"]["arguments"]}}}\n</tool_call>'
                            for c in m.get("tool_calls") or [])
            expected.append(think + m["content"] + calls + "<|im_end|>")
    assert supervised_text(tokenizer, sample) == expected


def test_weights_and_defaults(tokenizer):
    record = {"id": "w", "messages": [
        {"role": "system", "content": "sys", "loss": 1},          # never supervised, even if flagged
        {"role": "user", "content": "question one", "loss": 1},
        {"role": "assistant", "content": "first answer"},           # loss absent -> 1, weight absent -> 1
        {"role": "user", "content": "question two"},
        {"role": "assistant", "content": "second answer", "loss": 1, "weight": 0.25},
        {"role": "user", "content": "question three"},
        {"role": "assistant", "content": "third answer", "loss": 0, "weight": 5.0}]}
    [sample] = ChatRenderer(tokenizer).sft(record, 4096)
    values = sorted(set(sample.weights.tolist()))
    assert values == [0.0, 0.25, 1.0]
    assert supervised_text(tokenizer, sample) == ["first answer<|im_end|>", "second answer<|im_end|>"]
    # the trailing loss-0 turn is not even part of the sequence
    assert "third answer" not in tokenizer.decode(sample.ids)


def test_qwen3_template_trains_each_turn_in_its_inference_context(tokenizer):
    """Qwen3 drops earlier <think> blocks after a new user turn: such turns become their own sequence."""
    template = (HERE / "qwen3.jinja").read_text(encoding="utf-8")
    renderer = ChatRenderer(tokenizer, template)
    msgs = [{"role": "user", "content": "q one"},
            {"role": "assistant", "content": "a one", "reasoning_content": "think one"},
            {"role": "user", "content": "q two"},
            {"role": "assistant", "content": "a two", "reasoning_content": "think two"}]
    samples = renderer.sft({"id": "q", "messages": msgs}, 4096)
    assert len(samples) == 2
    first, second = (tokenizer.decode(s.ids) for s in samples)
    assert "think one" in first and "think one" not in second  # history as the model sees it later
    assert supervised_text(tokenizer, samples[0]) == ["<think>\nthink one\n</think>\n\na one<|im_end|>"]
    assert supervised_text(tokenizer, samples[1]) == ["<think>\nthink two\n</think>\n\na two<|im_end|>"]
    # one query with tool calls (a typical trajectory) stays one sequence
    one = renderer.sft(trajectory(random.Random(5), 1, turns=3), 8192)
    assert len(one) == 1


def test_rejects(tokenizer):
    renderer = ChatRenderer(tokenizer)
    no_loss = {"id": "n", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x", "loss": 0}]}
    with pytest.raises(RenderError) as err:
        renderer.sft(no_loss, 4096)
    assert err.value.reason == "no_loss_tokens"
    long = trajectory(random.Random(0), 2, turns=4)
    with pytest.raises(RenderError) as err:
        renderer.sft(long, 32)
    assert err.value.reason == "too_long"


def test_truncate_cuts_to_seq_len_and_marks_the_sample(tokenizer):
    renderer = ChatRenderer(tokenizer)
    record = trajectory(random.Random(0), 2, turns=4)
    [full] = renderer.sft(record, 8192)
    limit = len(full) - 7
    with pytest.raises(RenderError, match="--truncate"):
        renderer.sft(record, limit)
    [cut] = renderer.sft(record, limit, truncate=True)
    assert len(cut) == limit and cut.truncated and not full.truncated
    assert np.array_equal(cut.ids, full.ids[:limit])
    assert np.array_equal(cut.weights[:-1], full.weights[: limit - 1]) and cut.weights[-1] == 0


def test_response_pair_masks_prompt(tokenizer):
    renderer = ChatRenderer(tokenizer)
    sample = renderer.response([{"role": "user", "content": "q"}], [{"role": "assistant", "content": "good answer"}],
                               TOOLS, 4096)
    assert supervised_text(tokenizer, sample) == ["good answer<|im_end|>"]
    assert np.all(sample.weights[-1:] == 0)
