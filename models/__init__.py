"""Pure data and statistical models: events, alerts, customer state, RFM and CLV maths.

Nothing here knows about Kafka or Faust.
"""
