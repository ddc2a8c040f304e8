"""Run the command line with `python -m qcheck`."""

from qcheck.cli import main

raise SystemExit(main())
