"""Mistakes a user can fix, told in words rather than tracebacks."""

from __future__ import annotations


class UserError(Exception):
    """What is wrong and what to do, in one or two lines. The CLI prints the message and
    exits 1; ``--debug`` (or ``CHURNWATCH_DEBUG=1``) shows the traceback as well."""
