"""What a served model folder holds, read from file headers only (no weights loaded, no torch)."""

from __future__ import annotations

import json
from pathlib import Path


def parameter_count(folder: Path) -> int:
    """Parameters of a safetensors model folder, read from the file headers (no weights loaded)."""
    total = 0
    for file in sorted(Path(folder).glob("*.safetensors")):
        with open(file, "rb") as fh:
            header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
        for key, tensor in header.items():
            if key != "__metadata__":
                count = 1
                for dim in tensor["shape"]:
                    count *= dim
                total += count
    return total
