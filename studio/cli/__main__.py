"""``python -m studio.cli``: the same as ``studio`` (and ``python -m studio``)."""

import sys

from studio.cli import main

sys.exit(main())
