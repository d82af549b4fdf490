"""`export trajectories --to trl`: pre-tokenized rows whose masks are exactly the loss-1 messages (reasoning
included, or excluded per message), and one real TRL SFTTrainer step on them, on CPU, with a tiny model built
from a config (no downloads)."""

from __future__ import annotations

import json

import pytest

from synth.dataset import read_records
from tests.core.helpers import synth, write_jsonl

REASONING = "The search listed ANSI C; its entry matches the quoted words, so I open it to confirm."


def _call(i: int, name: str, args: dict) -> dict:
    return {"id": f"call_{i}_0", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def trajectory() -> dict:
    messages = [
        {"role": "system", "content": "You answer with <answer>...</answer>.", "loss": 0, "weight": 0.0},
        {"role": "user", "content": "Which revision of C added function prototypes?", "loss": 0, "weight": 0.0},
        {"role": "assistant", "reasoning_content": "Searching for the quoted words.", "loss": 0, "weight": 0.0,
         "tool_calls": [_call(0, "search", {"query": "revision of C function prototypes"})]},
        {"role": "tool", "tool_call_id": "call_0_0", "name": "search", "content": '{"results": [{"doc_id": "ANSI C"}]}',
         "loss": 0, "weight": 0.0},
        {"role": "assistant", "reasoning_content": REASONING, "loss": 1, "weight": 1.0,
         "tool_calls": [_call(1, "open", {"doc_id": "ANSI C"})]},
        {"role": "tool", "tool_call_id": "call_1_0", "name": "open", "content": '{"doc_id": "ANSI C", "text": "A revision of C"}',
         "loss": 0, "weight": 0.0},
        {"role": "assistant", "reasoning_content": "ANSI C fits.", "content": "<answer>ANSI C</answer>", "loss": 1,
         "weight": 1.0}]
    tools = [{"type": "function", "function": {"name": n, "description": n, "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}}, "required": []}}} for n in ("search", "open")]
    return {"id": "t1", "messages": messages, "tools": tools, "question": messages[1]["content"], "answer": "ANSI C",
            "predicted_answer": "ANSI C", "judgement": {"correct": True, "method": "exact", "reason": None}}


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    from synth.trainers.tokenizer import record_texts, train_bpe

    out = tmp_path_factory.mktemp("tok")
    train_bpe(list(record_texts([trajectory()])) * 20, out, vocab_size=400)
    return out


def export(tmp_path, tokenizer_dir, *extra) -> list[dict]:
    data = write_jsonl(tmp_path / "in.jsonl", [trajectory()])
    out = tmp_path / f"trl{len(extra)}"
    res = synth("export", "trajectories", str(data), "--to", "trl", "--tokenizer", str(tokenizer_dir),
                "--out", str(out), "--format", "jsonl", *extra)
    assert res.returncode == 0, res.stderr
    return list(read_records([out]))


def supervised(tok, row) -> str:
    return tok.decode([t for t, m in zip(row["input_ids"], row["completion_mask"]) if m])


@pytest.mark.slow
def test_masks_are_the_loss_one_messages_with_their_reasoning(tmp_path, tokenizer_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    (row,) = export(tmp_path, tokenizer_dir)
    assert row["assistant_masks"] == row["completion_mask"] and row["loss_tokens"] == sum(row["completion_mask"])
    text = supervised(tok, row)
    assert REASONING in text and '"doc_id": "ANSI C"' in text and "<answer>ANSI C</answer>" in text
    assert "Searching for the quoted words." not in text        # a loss-0 turn stays context
    (row0,) = export(tmp_path, tokenizer_dir, "--reasoning-loss", "0")
    text0 = supervised(tok, row0)
    assert REASONING not in text0 and "<answer>ANSI C</answer>" in text0 and REASONING in tok.decode(row0["input_ids"])


def test_missing_tokenizer_is_one_line(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", [trajectory()])
    res = synth("export", "trajectories", str(data), "--to", "trl", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "--tokenizer" in res.stderr and len(res.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_one_trl_sft_step_on_the_export(tmp_path, tokenizer_dir):
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
    from trl import SFTConfig, SFTTrainer

    rows = export(tmp_path, tokenizer_dir)
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=2048, pad_token_id=tok.pad_token_id))
    dataset = Dataset.from_list([{k: r[k] for k in ("input_ids", "assistant_masks", "completion_mask")} for r in rows])
    args = SFTConfig(output_dir=str(tmp_path / "trl_out"), max_steps=1, per_device_train_batch_size=1,
                     report_to=[], use_cpu=True, logging_steps=1, save_strategy="no", dataloader_num_workers=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tok)
    labels = trainer.train_dataset[0]["labels"]
    assert sum(label != -100 for label in labels) == rows[0]["loss_tokens"]   # TRL kept our mask as is
    result = trainer.train()
    assert result.global_step == 1 and torch.isfinite(torch.tensor(result.training_loss))
