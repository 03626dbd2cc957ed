"""Tests of the frozen program (PyInstaller build)."""
