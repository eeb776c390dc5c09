"""Logs that are not from a shop: synthetic customers with known fates (``generate``), a
marketing team acting on their alerts (``campaign``, its ``labels`` beside the log), and
the public CDNOW purchase history turned into events (``cdnow``)."""
