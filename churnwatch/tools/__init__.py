"""Around the streaming worker (``churnwatch.streams``), not in it: brokers to run on
(``broker``, ``apache_kafka``, child processes in ``children``), the demo, and the
commands that feed and read topics (``produce``, ``tail``) or document them
(``asyncapi``)."""
