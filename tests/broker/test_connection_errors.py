"""TLS against a plaintext broker is named within the seconds the README promises."""

from __future__ import annotations

import time

from click.testing import CliRunner

from churnwatch.cli import main
from churnwatch.tools.broker import RunningBroker
from tests.support.golden import GOLDEN
from tests.support.readme import promised_seconds, readme_row

SAMPLE = str(GOLDEN / "sample.jsonl")


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    began = time.monotonic()
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.stderr, time.monotonic() - began


def test_tls_against_a_plaintext_broker_is_named_within_seconds(broker: RunningBroker) -> None:
    code, err, took = run(["produce", SAMPLE], {"CHURNWATCH_KAFKA__BROKERS": broker.url,
                                                "CHURNWATCH_KAFKA__SECURITY_PROTOCOL": "SSL"})
    # the command runs in this process: the README's bound includes Python's start (~1 s)
    assert code == 1 and took < promised_seconds(
        "a TLS setting against a plaintext broker") - 1, (code, took, err)
    assert f"TLS handshake with {broker.url} failed" in err
    assert "CHURNWATCH_KAFKA__SECURITY_PROTOCOL=SSL" in err
    assert "TLS handshake with" in readme_row("a TLS setting against a plaintext broker")


