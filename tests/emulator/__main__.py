"""``python -m tests.emulator --state-file PATH`` (run from the repository root)."""

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
