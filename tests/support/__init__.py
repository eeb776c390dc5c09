"""What several test folders share, imported from here and never from another test module:
event builders (events), hostile input (hostile), logs and their replay (logs), the golden
cases (golden), the broker fixtures and cluster helpers (cluster, registered for every
test by tests/conftest.py), packaging and the image (packaging), README rows (readme)."""
