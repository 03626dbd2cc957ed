"""What the eBay and Etsy clients share: HTTP, errors, pacing, OAuth tokens and flows."""
