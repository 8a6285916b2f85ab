"""Run ``python -m micboard_desktop``."""

import sys

from micboard_desktop.cli import main

sys.exit(main())
