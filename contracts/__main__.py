"""``python -m contracts``."""

import sys

from contracts.tools.cli import main

sys.exit(main())
