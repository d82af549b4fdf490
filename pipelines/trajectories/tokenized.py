"""`synth export trajectories IN --to trl --tokenizer DIR`: pre-tokenized SFT rows that TRL's SFTTrainer takes as is.

Each row: {id, source_id, input_ids, assistant_masks, completion_mask, loss_tokens}. The masks are 1 on the tokens
that carry loss and 0 elsewhere, aligned with `input_ids` (TRL shifts labels itself). TRL builds labels from
`assistant_masks` under its default config and from `completion_mask` with `completion_only_loss=True`; both
columns hold the same mask, so either setting trains exactly the messages `synth label turns` gave loss 1, and
with `reasoning_loss: 0` on a message its reasoning stays in context without loss. Rendering is the trainer's
(synth.trainers.render.ChatRenderer): the tokenizer's own chat template, spans found by rendering prefixes, so a
template that rewrites history (Qwen3) yields one row per context. Per-message weights other than 0/1 cannot be
said with a mask: weight > 0 counts as 1 (`synth train` honours the weights themselves).

    from datasets import load_dataset
    rows = load_dataset("parquet", data_files="OUT/data/*.parquet")["train"]
    SFTTrainer(model=model, args=SFTConfig(...), train_dataset=rows, processing_class=tokenizer).train()
"""

from __future__ import annotations

import numpy as np

from synth.records import Reject
from synth.steps import RecordStep


def mask_of(weights: np.ndarray) -> list[int]:
    """The renderer's weights say which *next* token carries loss (position t predicts t + 1); a TRL mask marks
    the token itself."""
    mask = np.zeros(len(weights), dtype=np.int8)
    mask[1:] = weights[:-1] > 0
    return mask.tolist()


def rows_of(renderer, record: dict, max_len: int) -> list[dict]:
    samples = renderer.sft(record, max_len)
    out = []
    for n, sample in enumerate(samples):
        mask = mask_of(sample.weights)
        out.append({"id": record["id"] if len(samples) == 1 else f"{record['id']}#s{n}",
                    "source_id": (record.get("metadata") or {}).get("source_id") or record["id"],
                    "input_ids": sample.ids.astype(int).tolist(), "assistant_masks": mask, "completion_mask": mask,
                    "loss_tokens": int(sum(mask))})
    return out


class TokenizeForTrl(RecordStep):
    """sft records (export.sft_variants) -> tokenized rows; a record that cannot render is a reject."""

    name = "tokenize for trl"

    def __init__(self, tokenizer: str, max_len: int, chat_template: str | None = None):
        super().__init__()
        self.tokenizer, self.max_len, self.chat_template = tokenizer, max_len, chat_template
        self._renderer = None

    def setup(self, rank: int, world_size: int) -> None:
        if self._renderer is None:
            from synth.trainers.model import load_tokenizer
            from synth.trainers.render import ChatRenderer

            self._renderer = ChatRenderer(load_tokenizer(self.tokenizer, self.chat_template))

    def process(self, record: dict):
        from synth.trainers.render import RenderError

        self.setup(0, 1)
        try:
            return rows_of(self._renderer, record, self.max_len)
        except RenderError as exc:
            return Reject(exc.reason, exc.detail[:500])
