"""``python -m claimedit``: the same as the ``claimedit`` command."""

from claimedit.cli import main

raise SystemExit(main())
