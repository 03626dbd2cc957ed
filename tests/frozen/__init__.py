"""Tests of the frozen program (PyInstaller build); not "build/": pytest skips that name."""
