"""``python -m linked_audiences`` is the ``linked-audiences`` command."""

from linked_audiences.cli import main

raise SystemExit(main())
