"""PyInstaller entry point of the console executable ``mrecist-reader``."""

from mrecist_reader.cli import main

raise SystemExit(main())
