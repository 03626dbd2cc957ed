"""Marketdesk entry point: the desktop window by default, or a sub-command (see ``--help``)."""

import sys

from app.launch import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
