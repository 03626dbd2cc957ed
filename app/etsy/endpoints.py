"""Where Etsy's endpoints are (production, or ``local`` under one base URL) and its scopes."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("listings_r", "listings_w", "listings_d", "transactions_r", "shops_r", "profile_r")


@dataclass(frozen=True)
class EtsyEndpoints:
    """The consent page, the token endpoint and the Open API v3 base."""

    connect_url: str
    token_url: str
    api_base: str

    @classmethod
    def for_environment(cls, environment: str, base_url: str | None = None) -> EtsyEndpoints:
        """``production`` or ``local``; Etsy has no sandbox."""
        if environment == "production":
            return cls(
                connect_url="https://www.etsy.com/oauth/connect",
                token_url="https://api.etsy.com/v3/public/oauth/token",
                api_base="https://api.etsy.com/v3/application",
            )
        if environment == "local":
            if not base_url:
                raise ValueError("The local Etsy environment needs a base URL")
            root = base_url.rstrip("/")
            return cls(
                connect_url=f"{root}/oauth/connect",
                token_url=f"{root}/v3/public/oauth/token",
                api_base=f"{root}/v3/application",
            )
        if environment == "sandbox":
            raise ValueError("Etsy has no sandbox: use production with a test shop")
        raise ValueError(f"Unknown Etsy environment: {environment}")
