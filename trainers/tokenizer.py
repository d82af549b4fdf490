"""A small byte-level BPE tokenizer for random-init models (`synth train --from-config` without --tokenizer).

A model made from a config has no tokenizer, and none may be downloaded, so `synth train` trains one on the
training data itself: byte-level BPE (every byte stays reachable, so constrained decoding can spell any tool
call), ChatML special tokens, and a ChatML chat template in the Qwen/Hermes tool format that the agent harness
speaks with `--tool-format hermes` (so the tiny model is trained on the prompts it is evaluated with). It is
saved with the checkpoint, so vLLM and transformers load the trained folder as is.

Deterministic: the same data, vocabulary size and seed give byte-identical tokenizer files (the seed picks
which records train it when the data has more than `max_records`; HF's BPE trainer itself is deterministic).
A real model brings its own tokenizer: `--model PATH`, or `--tokenizer DIR` to override this one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")  # tool-call tags stay text: the decoder keeps them
DEFAULT_VOCAB = 2048
MAX_RECORDS = 20_000  # enough text for a 2k vocabulary; keeps the build to seconds on big datasets


def train_bpe(texts: Iterable[str], out: str | Path | None = None, *, vocab_size: int = DEFAULT_VOCAB,
              specials: Iterable[str] = SPECIALS, chat_template: str | None = None,
              eos: str = "<|im_end|>", pad: str = "<|endoftext|>") -> Any:
    """Train a byte-level BPE on `texts`; returns a PreTrainedTokenizerFast (saved to `out` when given)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token=pad)
    fast.chat_template = chat_template if chat_template is not None else hermes_chat_template()
    if out is not None:
        fast.save_pretrained(str(out))
    return fast


def tokenizer_from_data(data: Iterable[str | Path], out: str | Path, *, vocab_size: int = DEFAULT_VOCAB,
                        seed: int = 0, max_records: int = MAX_RECORDS) -> Any:
    """Train the tokenizer on the texts of synth datasets (trajectory, preference_pair or code_problem records)."""
    from synth.dataset import read_records

    records = list(read_records([Path(p) for p in data]))
    if len(records) > max_records:  # a seeded, order-independent choice: hash of (seed, position)
        keys = [hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(len(records))]
        chosen = sorted(sorted(range(len(records)), key=keys.__getitem__)[:max_records])
        records = [records[i] for i in chosen]
    return train_bpe(record_texts(records), out, vocab_size=vocab_size)


def record_texts(records: Iterable[dict]) -> Iterator[str]:
    """The text a chat template renders from a record: tool schemas, message contents and tool calls."""
    for record in records:
        tools = record.get("tools") or []
        if tools:
            yield "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
        for key in ("messages", "prompt", "chosen", "rejected", "reference_solution"):  # + code_problem text
            value = record.get(key)
            if isinstance(value, str):
                yield value
            elif isinstance(value, list):
                yield from _message_texts(value)


def _message_texts(messages: list) -> Iterator[str]:
    for m in messages:
        if not isinstance(m, dict):
            continue
        yield m.get("content") or ""
        for call in m.get("tool_calls") or []:
            fn = call.get("function") or {}
            args = fn.get("arguments")
            args = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
            yield f'<tool_call>\n{{"name": "{fn.get("name")}", "arguments": {args}}}'


def hermes_chat_template() -> str:
    """ChatML in the Qwen/Hermes tool format, rendering exactly what the agent harness sends with
    `--tool-format hermes` (same tool block, <tool_call> JSON, tool results as <tool_response> user turns).
    `reasoning_content` is rendered as `<think>\nREASONING\n</think>\n` before the content (the Hermes text
    form of pipelines/trajectories/hermes.py), so reasoning is trained like the call it leads to; messages
    without it render as before. Every piece of text is an expression: HF renders templates with trim_blocks,
    which would eat newlines written as literal text."""
    from synth.pipelines.trajectories.harness import prompt

    head, tail = (json.dumps(part) for part in prompt("tools_hermes.txt").split("{tools}"))
    tools = ("{{- " + head + " -}}{%- for tool in tools -%}{{- ('\\n' if not loop.first else '') + (tool | tojson) -}}"
             "{%- endfor -%}{{- " + tail + " -}}")
    return "".join([
        "{%- if tools and (not messages or messages[0].role != 'system') -%}",
        "{{- '<|im_start|>system\\n' -}}", tools, "{{- '<|im_end|>\\n' -}}{%- endif -%}",
        "{%- for message in messages -%}",
        "{%- if message.role == 'system' -%}",
        "{{- '<|im_start|>system\\n' + (message.content or '') -}}",
        "{%- if tools -%}{{- '\\n\\n' -}}", tools, "{%- endif -%}{{- '<|im_end|>\\n' -}}",
        "{%- elif message.role == 'assistant' -%}",
        "{{- '<|im_start|>assistant\\n' -}}",
        "{%- if message.reasoning_content -%}{{- '<think>\\n' + message.reasoning_content + '\\n</think>\\n' -}}{%- endif -%}",
        "{{- message.content or '' -}}",
        "{%- for call in message.tool_calls or [] -%}",
        ("{{- ('\\n' if (message.content or not loop.first) else '') + '<tool_call>\\n{\"name\": ' + "
         "(call.function.name | tojson) + ', \"arguments\": ' + (call.function.arguments if call.function.arguments "
         "is string else (call.function.arguments | tojson)) + '}\\n</tool_call>' -}}"),
        "{%- endfor -%}{{- '<|im_end|>\\n' -}}",
        "{%- elif message.role == 'tool' -%}",
        ("{%- if loop.first or messages[loop.index0 - 1].role != 'tool' -%}{{- '<|im_start|>user\\n' -}}"
         "{%- else -%}{{- '\\n' -}}{%- endif -%}"),
        "{{- '<tool_response>\\n' + (message.content or '') + '\\n</tool_response>' -}}",
        "{%- if loop.last or messages[loop.index0 + 1].role != 'tool' -%}{{- '<|im_end|>\\n' -}}{%- endif -%}",
        "{%- else -%}{{- '<|im_start|>' + message.role + '\\n' + (message.content or '') + '<|im_end|>\\n' -}}",
        "{%- endif -%}{%- endfor -%}",
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}",
    ])
