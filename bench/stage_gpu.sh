#!/bin/bash
# Stage this checkout for a device run: the import root `synth` as setup.py maps it (synth/, trainers/ as
# synth.trainers, schemas/ as synth.schemas) plus bench/, into DEST (a git-ignored folder the run carries).
# Usage: bench/stage_gpu.sh DEST   (then on the device: PYTHONPATH=DEST/site python3 DEST/bench/...)
set -e
DEST=${1:?destination folder}
rm -rf "$DEST/site" "$DEST/bench" && mkdir -p "$DEST/site" "$DEST/bench"
cp -r synth "$DEST/site/synth"
cp -r trainers "$DEST/site/synth/trainers"
cp -r schemas "$DEST/site/synth/schemas"
cp bench/*.py "$DEST/bench/"
find "$DEST" -name __pycache__ -prune -exec rm -rf {} +
