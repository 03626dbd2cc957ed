"""eBay: REST API client, OAuth and job handlers."""
