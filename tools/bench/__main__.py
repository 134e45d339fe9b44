"""``python -m tools.bench``: see :mod:`tools.bench`."""

from tools.bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
