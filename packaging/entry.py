"""Entry script of the frozen app (both executables): run the command line."""

import sys

from micboard_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
