"""The ``churnwatch`` command line: the group and its shared handling in ``base``, the
commands by what they work on (``replay``, ``simulate``, ``analysis``, ``streaming``).

A user's mistake (a bad setting, a missing file, no broker) ends the command with one or
two plain lines and exit status 1; ``--debug`` or ``CHURNWATCH_DEBUG=1`` adds the
traceback. Each command loads only the settings sections it uses, and imports what it
runs only when it runs (``replay`` never loads Faust).
"""

from churnwatch.cli import analysis, replay, simulate, streaming
from churnwatch.cli.base import main

__all__ = ["analysis", "main", "replay", "simulate", "streaming"]
