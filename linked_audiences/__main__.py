"""``python -m linked_audiences`` is the ``linked-audiences`` command."""

from linked_audiences.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
