from churnwatch.settings import Settings
from tests.support.events import by_time, detect, regular_orders, signals_of


def population(n: int = 60, last: float = 200, every: float = 15, amount: float = 40.0
               ) -> list:
    return [e for i in range(n)
            for e in regular_orders(f"bg{i}", i % 7, last, every, amount)]


def test_top_customer_going_silent_moves_into_important_retain() -> None:
    vip = regular_orders("c1", 0, 100, every=5, amount=500.0)
    alerts = [a for a in detect(by_time(population() + vip)) if a.subject == "c1"]
    risk = [a for a in alerts if a.data.signal == "segment_at_risk"]
    assert len(risk) == 1
    data = risk[0].data
    assert data.reasons[0].code == "moved_to_important_retain"
    assert data.evidence["from_segment"] == "important-keep"
    assert data.rfm.segment == "important-retain"
    assert data.tier in ("diamond", "core")
    assert data.respond_within in ("PT1H", "PT4H")


def test_top_customer_who_keeps_buying_is_not_flagged() -> None:
    vip = regular_orders("c1", 0, 200, every=5, amount=500.0)
    assert "segment_at_risk" not in signals_of(detect(by_time(population() + vip)))


def test_own_spend_collapse_drops_the_value_tier() -> None:
    settings = Settings(detection={"window_days": 60})
    vip = (regular_orders("c1", 0, 50, every=10, amount=1000.0)
           + regular_orders("c1", 60, 200, every=10, amount=20.0))
    bg = population(every=10, amount=50.0)
    alerts = [a for a in detect(by_time(bg + vip), settings=settings)
              if a.subject == "c1" and a.data.signal == "segment_at_risk"]
    assert [r.code for a in alerts for r in a.data.reasons
            if not r.code.startswith("risk.")] == ["value_tier_dropped"]
    assert alerts[0].data.evidence["from_tier"] in ("diamond", "core")


def test_small_population_is_not_classified() -> None:
    vip = regular_orders("c1", 0, 100, every=5, amount=500.0)
    alerts = detect(by_time(population(n=10) + vip))
    assert "segment_at_risk" not in signals_of(alerts)
