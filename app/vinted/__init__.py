"""Vinted: handlers that act through the browser plugin, and the deprecated legacy entry points."""
