"""churnwatch: a streaming churn-signal detector.

The application layer: settings, the detection engine, replay, the generator and the CLI.
Pure domain logic lives in ``churnwatch.models`` and ``churnwatch.signals`` (the
repository folders ``models/`` and ``signals/``); Faust glue in ``churnwatch.streams``.
"""
