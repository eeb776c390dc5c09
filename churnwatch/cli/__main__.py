"""``python -m churnwatch.cli``: the same as the ``churnwatch`` command."""

import sys

from churnwatch.cli import main

sys.exit(main())
