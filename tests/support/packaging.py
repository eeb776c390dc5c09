"""Building and installing the package as users do: a wheel in a fresh venv, and the
Dockerfile read as the image builds it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

PIP = [sys.executable, "-m", "pip"]


def wheel_and_fresh_venv(tmp: Path) -> tuple[Path, Path]:
    """This checkout's wheel (without dependencies) and the python of a new venv."""
    run([*PIP, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp / "dist"), str(ROOT)])
    run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")])
    return next((tmp / "dist").glob("churnwatch-*.whl")), tmp / "venv" / "bin" / "python"


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done.stdout


DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [ln.strip() for ln in text.splitlines()]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines
            if ln and not ln.startswith("#")]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    start = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[start:]


def env_of_image() -> dict[str, str]:
    return dict(pair.split("=", 1) for op, args in final_stage() if op == "ENV"
                for pair in shlex.split(args))
