"""Whether the seller is through with the first-run welcome (a window setting).

Kept apart from :mod:`app.ui.welcome` so that every later start can ask without loading
the welcome dialog and the account and plugin boxes it holds.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

#: Set once the seller finished, skipped or closed the welcome.
DONE_KEY = "welcome/done"


def welcome_done(settings: QSettings) -> bool:
    """True once the seller finished, skipped or closed the welcome."""
    value = settings.value(DONE_KEY, False)
    if isinstance(value, str):  # INI files give strings back
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
