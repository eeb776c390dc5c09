"""The streaming worker: Faust topics, tables and agents wired to the detection engine
(``worker`` starts it, ``runtime`` is its per-partition core). What runs around it
(brokers, demo, produce, tail, AsyncAPI) is ``churnwatch.tools``."""

if __name__ != "churnwatch.streams":  # streams/ is linked in as churnwatch.streams
    raise ImportError(f"import churnwatch.streams, not {__name__}: under a second name every "
                      "module would load twice, with two copies of each class")
