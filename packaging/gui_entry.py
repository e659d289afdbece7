"""PyInstaller entry point of the windowed executable ``mrecist-reader-gui``."""

import sys

from mrecist_reader.cli import main

raise SystemExit(main(sys.argv[1:]))
