"""Marketdesk: one catalog and one durable job queue for resellers on Vinted, eBay and Etsy."""

__version__ = "0.1.0"
