"""Marketdesk entry point: the desktop window by default, or a sub-command (see ``--help``)."""

from app.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
