"""`python -m synth.trainers --flag value ...`: the trainer's own command line (also the torchrun target).

Flags are generated from `TrainConfig`, so they always match `synth train`'s. Exit codes follow the CLI
contract: 0 done, 2 a problem the user can fix (one line on stderr), 1 internal failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from synth.trainers.config import TrainConfig, from_dict

from synth.errors import UserError


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m synth.trainers", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="JSON or YAML file whose keys are option names; flags win.")
    p.add_argument("--json", action="store_true", help="Print the manifest as JSON on stdout.")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = str(f.type)
        if kind.startswith("list"):
            p.add_argument(flag, nargs="+", type=float if "float" in kind else str, help=f.metadata["help"])
        elif "bool" in kind:
            p.add_argument(flag, type=_bool, help=f.metadata["help"])
        else:
            cast = int if "int" in kind else float if "float" in kind else str
            p.add_argument(flag, type=cast, help=f.metadata["help"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = vars(parser().parse_args(argv))
    values: dict = {}
    config_file = args.pop("config")
    if config_file:
        import yaml  # YAML is a superset of JSON

        values.update(yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {})
    as_json = args.pop("json")
    values.update({k: v for k, v in args.items() if v is not None})
    try:
        from synth.trainers.run import run_train

        result = run_train(from_dict(values))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
