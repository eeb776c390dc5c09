"""The compiled build (setup.py: mypyc over the core) gives the same bytes as the pure
Python one. Built as a user builds it, a wheel, then put ahead of the editable install
(run from elsewhere: the working directory would come first on the path)."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.golden import CASES, GOLDEN

pytestmark = pytest.mark.builds_package

ROOT = Path(__file__).resolve().parents[2]
RUN_CASES = """
import sys
from pathlib import Path
import churnwatch.engine.detector, churnwatch.models.state, churnwatch.signals.gone_quiet
from churnwatch.settings import Settings
from tests.support.golden import CASES, run_case
out = Path(sys.argv[1])
for module in (churnwatch.engine.detector, churnwatch.models.state, churnwatch.signals.gone_quiet):
    print(module.__file__)
for case in CASES:
    (out / case.name).mkdir()
    run_case(case, out / case.name, Settings.build()).write(
        alerts=out / case.name / "alerts", customers=out / case.name / "customers",
        dead_letter=out / case.name / "dead-letter")
"""


def test_the_compiled_core_gives_the_golden_bytes(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(ROOT)],
        check=True, cwd=ROOT, env={**os.environ, "CHURNWATCH_MYPYC": "1"})
    (wheel,) = wheels.glob("churnwatch-*.whl")
    assert "-cp3" in wheel.name, "a compiled wheel is tagged for its interpreter"
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    run = subprocess.run(
        [sys.executable, "-c", RUN_CASES, str(tmp_path)], check=True, cwd=tmp_path,
        capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join((str(site), str(ROOT)))})
    loaded = run.stdout.split()
    assert len(loaded) == 3 and all(path.endswith(".so") for path in loaded), loaded
    for case in CASES:
        for kind in ("alerts", "customers", "dead-letter"):
            produced = (tmp_path / case.name / kind).read_bytes()
            assert produced == (GOLDEN / f"{case.name}.{kind}.jsonl").read_bytes(), (
                case.name, kind)
