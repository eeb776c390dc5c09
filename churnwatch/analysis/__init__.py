"""How good is it: fitting the risk models (``fit``) on population ``snapshots``,
evaluating them (``evaluate``), and whether acting on alerts won customers back
(``outcomes``, its page in ``outcome_page``)."""
