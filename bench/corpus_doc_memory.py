"""Peak memory of `synth corpus build` with one large document (issue 28, point 7).

    python bench/corpus_doc_memory.py 15000000 --no-dense [--no-bm25]

Builds a corpus from the 17 test documents plus one document of N bytes of text (N=0: the baseline, run
it in the same way) in a temporary folder and prints the build's exit code and peak resident memory.
"""

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    from tests.env.helpers import write_jsonl

    size, flags = int(sys.argv[1]), sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        src = write_jsonl(Path(tmp) / "docs.jsonl")
        if size:
            words = ("lorem ipsum dolor sit amet Pascal Wirth " * (size // 40 + 1))[:size]
            with open(src, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"id": "big", "title": "Big", "text": words}) + "\n")
        run = subprocess.run([sys.executable, "-m", "synth.cli", "corpus", "build", str(src), "--out",
                              str(Path(tmp) / "corpus"), "--json", *flags], capture_output=True, text=True, cwd=REPO)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"document {size} bytes, flags {' '.join(flags) or '-'}: exit {run.returncode}, peak {peak:.0f} MiB")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
