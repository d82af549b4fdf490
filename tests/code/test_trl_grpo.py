"""A real TRL GRPOTrainer step calls CodeReward with its own arguments (tiny random model, CPU)."""

from __future__ import annotations

import json

import pytest
from synth.pipelines.code.reward import CodeReward


@pytest.mark.slow
def test_grpo_trainer_calls_code_reward(tmp_path):
    pytest.importorskip("trl")
    from datasets import Dataset
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer, tok.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    tok.train_from_iterator(["def f(xs):\n    return sum(xs)\n```python\n```"] * 10,
                            trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<pad>", "<eos>"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    model = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id))
    problem = {"id": "p", "style": "function", "prompt": "Sum xs.", "entry_point": "f", "complexity": None,
               "reference_solution": "def f(xs):\n    return sum(xs)\n",
               "tests": [{"input": "[[1, 2]]", "expected": "3"}]}
    calls = []

    class Recording(CodeReward):
        def __call__(self, **kwargs):
            calls.append(sorted(kwargs))
            return super().__call__(**kwargs)

    dataset = Dataset.from_list([{"prompt": "Write f:", "problem": json.dumps(problem)}] * 4)
    args = GRPOConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=2, num_generations=2,
                      max_completion_length=8, report_to=[], use_cpu=True, save_strategy="no", bf16=False)
    trainer = GRPOTrainer(model=model, reward_funcs=[Recording()], args=args, train_dataset=dataset,
                          processing_class=tokenizer)
    trainer.train()
    assert calls and {"prompts", "completions", "problem", "log_metric"} <= set(calls[0])
    logged = {k for entry in trainer.state.log_history for k in entry}
    assert {"rewards/code_reward/mean", "code/format", "code/time"} <= logged
