"""The Qt binding must not leak references to None, True or False.

PySide6 6.12.0 on Python 3.11 drops one reference to None per void Qt call and one to
True per signal emission; after a few thousand of them the interpreter aborts with
"deallocating None". pyproject.toml keeps PySide6 below 6.12 for that reason; this test
fails (instead of crashing a seller's window) if a binding with such a leak comes back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel


class _Emitter(QObject):
    fired = Signal(int)


def test_void_calls_and_emits_keep_none_and_true_alive(qapp: QApplication) -> None:
    label = QLabel()
    emitter = _Emitter()
    received: list[int] = []
    emitter.fired.connect(received.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        label.setText("x")
        emitter.fired.emit(1)
    assert len(received) == 2000
    # a little slack for unrelated objects created meanwhile; the leak is 2000
    assert sys.getrefcount(None) > none_before - 200
    assert sys.getrefcount(True) > true_before - 200
