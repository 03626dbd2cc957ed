"""Integration tests: real SQLite files, real migrations, real processes."""
