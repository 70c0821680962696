"""``python -m claimedit``: the same as the ``claimedit`` command."""

from claimedit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
