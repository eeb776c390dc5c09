"""Pure data and statistical models: events, alerts, customer state, RFM and CLV maths.

Nothing here knows about Kafka or Faust.
"""

if __name__ != "churnwatch.models":  # models/ is linked in as churnwatch.models
    raise ImportError(f"import churnwatch.models, not {__name__}: under a second name every "
                      "module would load twice, with two copies of each class")
