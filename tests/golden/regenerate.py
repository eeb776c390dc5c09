"""Rewrite the golden replay outputs. Run only after a reviewed, intended behaviour change
(``make golden``), and say in the commit why the alerts changed."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).parent
sys.path.insert(0, str(GOLDEN.parents[1]))

from tests.golden.cases import CASES, run_case  # noqa: E402

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            for name, data in run_case(case, Path(tmp)).items():
                (GOLDEN / name).write_bytes(data)
                print(f"wrote tests/golden/{name}")
