import pytest

from churnwatch.models.params import default
from tests.support.events import detect, engage, signals_of


@pytest.mark.parametrize("action", ["unfollow", "unsubscribe"])
def test_leaving_a_channel_fires(action: str) -> None:
    alerts = detect([engage(action, 0, channel="wechat")])
    assert signals_of(alerts) == ["unfollowed"]
    assert alerts[0].data.evidence == {"action": action, "channel": "wechat",
                                       "risk_model": default().version}


@pytest.mark.parametrize("action", ["follow", "subscribe", "visit"])
def test_joining_or_visiting_does_not(action: str) -> None:
    assert signals_of(detect([engage(action, 0)])) == []
