"""The optional compiled build of the detection core.

``CHURNWATCH_MYPYC=1 pip wheel --no-build-isolation --no-deps .`` compiles the modules
below with mypyc, as black and mypy ship themselves: the same strictly typed source, run
as C extensions. Without the variable the wheel is pure Python, and everything else
(metadata, packages, scripts) comes from pyproject.toml either way. Both give the same
bytes (tests/engine/test_compiled.py); BENCHMARKS.md says what the compiled one gains.
"""

import os

from setuptools import setup

COMPILED = [
    "churnwatch/engine/detector.py",
    "churnwatch/engine/eventtime.py",
    "churnwatch/engine/scoring.py",
    "churnwatch/engine/alerting.py",
    "churnwatch/engine/replayer.py",
    "churnwatch/engine/deadletter.py",
    "churnwatch/models/state.py",
    "churnwatch/models/states.py",
    "churnwatch/models/rfm.py",
    "churnwatch/models/population.py",
    "churnwatch/models/clv.py",
    "churnwatch/models/risk.py",
    "churnwatch/signals/__init__.py",
    "churnwatch/signals/base.py",
    "churnwatch/signals/actions.py",
    "churnwatch/signals/governance.py",
    "churnwatch/signals/basket_drop.py",
    "churnwatch/signals/complaint_escalated.py",
    "churnwatch/signals/engagement_drop.py",
    "churnwatch/signals/gone_quiet.py",
    "churnwatch/signals/nps_detractor.py",
    "churnwatch/signals/promotion_skipped.py",
    "churnwatch/signals/recovered.py",
    "churnwatch/signals/segment_at_risk.py",
    "churnwatch/signals/unfollowed.py",
]

ext_modules = []
if os.environ.get("CHURNWATCH_MYPYC") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(COMPILED, opt_level="3")

setup(ext_modules=ext_modules)
