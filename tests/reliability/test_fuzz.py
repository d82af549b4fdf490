"""Bad-input fuzzing (Hypothesis) of every reader and of `synth validate` (targets: tests/reliability/fuzz.py).

Each drawn input must end as records or as one clear error line naming the file; a traceback, any other
exception, or a multi-line message fails. The default run draws FUZZ_EXAMPLES inputs per target (seeded,
so a failure reproduces); `RELIABILITY_FUZZ_EXAMPLES=2000 pytest tests/reliability/test_fuzz.py` or
`python -m tests.reliability.campaign fuzz` draws more.
"""

from __future__ import annotations

import os

import pytest

from tests.reliability.fuzz import run_target
from tests.reliability.fuzz_targets import TARGETS

FUZZ_EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "25"))


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_drawn_input_ends_as_records_or_one_clear_error(target):
    endings = run_target(target, FUZZ_EXAMPLES, seed=0)
    assert sum(endings.values()) >= 1, endings  # Hypothesis drew at least one input
