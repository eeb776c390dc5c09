"""The optional compiled build of the detection core.

``CHURNWATCH_MYPYC=1 pip wheel --no-build-isolation --no-deps .`` compiles the modules
below with mypyc, as black and mypy ship themselves: the same strictly typed source, run
as C extensions. Without the variable the wheel is pure Python, and everything else
(metadata, packages, scripts) comes from pyproject.toml either way. Both give the same
bytes (tests/engine/test_compiled.py); BENCHMARKS.md says what the compiled one gains.
"""

import os
import shutil
from pathlib import Path

from setuptools import setup

COMPILED = sorted(
    # the detection core: the engine, the replayer that drives it, every signal, and the
    # parts of the domain it runs on per event; not the pydantic classes (settings, schemas)
    [str(p) for part in ("engine", "replayer", "signals")
     for p in Path("churnwatch", part).glob("*.py") if p.name != "detection.py"]
    + [f"churnwatch/models/{name}.py" for name in (
        "state", "state_cache", "rfm", "population", "clv", "risk", "vocabulary")]
)

# setuptools reuses build/lib.*: a module moved, renamed or no longer compiled would ship
# its old extension from there, and the old one wins over the new source (a wheel built
# after a move crashed on import). Every build starts from the source alone.
for stale in Path("build").glob("lib*"):
    shutil.rmtree(stale)

ext_modules = []
if os.environ.get("CHURNWATCH_MYPYC") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(COMPILED, opt_level="3")

setup(ext_modules=ext_modules)
