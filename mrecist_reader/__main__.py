"""Run the command line with ``python -m mrecist_reader``."""

from mrecist_reader.cli import main

raise SystemExit(main())
