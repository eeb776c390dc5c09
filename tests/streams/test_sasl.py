"""Wrong SASL credentials are named within seconds (streams/probe.py), against the
embedded broker with authentication required. Its memory store holds no user (Tansu
0.6.0 refuses to create one without authenticating first), so every credential is wrong
here; the SCRAM arithmetic itself is checked against RFC 7677's example."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from churnwatch.cli import main
from churnwatch.streams.probe import scram_final, scram_first_bare
from churnwatch.tools.broker import start_tansu
from tests.support.golden import GOLDEN
from tests.support.readme import readme_row


@pytest.fixture
def authenticating_broker() -> Iterator[str]:
    broker = start_tansu(options=("--authentication",))
    try:
        yield broker.url
    finally:
        broker.stop()


def test_wrong_credentials_are_named_within_seconds(authenticating_broker: str) -> None:
    began = time.monotonic()
    result = CliRunner().invoke(main, ["produce", str(GOLDEN / "sample.jsonl")], env={
        "CHURNWATCH_KAFKA__BROKERS": authenticating_broker,
        "CHURNWATCH_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "CHURNWATCH_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "CHURNWATCH_KAFKA__SASL_USERNAME": "alice",
        "CHURNWATCH_KAFKA__SASL_PASSWORD": "not-her-password"})
    took = time.monotonic() - began
    assert result.exit_code == 1 and took < 30, (took, result.output)
    assert (f"{authenticating_broker} refused the credentials of SASL user 'alice' "
            "(unknown-user): check CHURNWATCH_KAFKA__SASL_USERNAME and "
            "CHURNWATCH_KAFKA__SASL_PASSWORD") in result.stderr
    assert "not-her-password" not in result.output
    assert "refused the credentials" in readme_row("wrong SASL credentials")


def test_the_scram_client_computes_rfc_7677s_example() -> None:
    first = scram_first_bare("user", "rOprNGfwEbeRWgbNEkqO")
    server_first = ("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    final, server_signature = scram_final("pencil", first, server_first,
                                          "rOprNGfwEbeRWgbNEkqO", "sha256")
    assert final == ("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert server_signature == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
