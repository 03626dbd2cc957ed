"""Marketdesk's test suite."""
