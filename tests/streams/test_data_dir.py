"""One worker per data directory: a second one beside it takes its own (streams/datadir.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from churnwatch.errors import UserError
from churnwatch.settings import Settings
from churnwatch.streams.datadir import SLOTS, claim


def settings(data_dir: Path) -> Settings:
    return Settings.build(runtime={"data_dir": data_dir})


def test_a_second_worker_takes_the_next_directory_and_the_first_gets_its_own_back(
        tmp_path: Path) -> None:
    first, held = claim(settings(tmp_path))
    assert first.runtime.data_dir == tmp_path
    assert (tmp_path / "churnwatch-data.lock").read_text().strip().isdigit()
    second, also_held = claim(settings(tmp_path))
    assert second.runtime.data_dir == tmp_path / "churnwatch-worker-2"
    held.close()  # the first worker stops
    again, _ = claim(settings(tmp_path))
    assert again.runtime.data_dir == tmp_path
    also_held.close()


def test_when_every_directory_is_taken_the_worker_refuses_and_names_the_setting(
        tmp_path: Path) -> None:
    held = [claim(settings(tmp_path))[1] for _ in range(SLOTS)]
    with pytest.raises(UserError, match="CHURNWATCH_RUNTIME__DATA_DIR"):
        claim(settings(tmp_path))
    for handle in held:
        handle.close()


def test_a_killed_worker_leaves_no_lock_behind(tmp_path: Path) -> None:
    """The kernel drops an flock with its process, however the process ended."""
    code = ("import sys, time; from pathlib import Path; "
            "from churnwatch.settings import Settings; "
            "from churnwatch.streams.datadir import claim; "
            f"h = claim(Settings.build(runtime={{'data_dir': Path({str(tmp_path)!r})}}))[1]; "
            "print('locked', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"locked\n"
    assert claim(settings(tmp_path))[0].runtime.data_dir != tmp_path  # held by the child
    proc.kill()
    proc.wait()
    assert claim(settings(tmp_path))[0].runtime.data_dir == tmp_path
