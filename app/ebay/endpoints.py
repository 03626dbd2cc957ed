"""Where eBay's endpoints are, per environment, and the scopes Marketdesk asks for."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = (
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.account",
    "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly",
)


@dataclass(frozen=True)
class EbayEndpoints:
    """The consent page, the token endpoint, the Sell APIs and the Identity API."""

    authorize_url: str
    token_url: str
    api_base: str
    identity_base: str

    @classmethod
    def for_environment(cls, environment: str, base_url: str | None = None) -> EbayEndpoints:
        """``production``, ``sandbox``, or ``local`` (everything under ``base_url``)."""
        if environment == "production":
            auth, api, apiz = "auth.ebay.com", "api.ebay.com", "apiz.ebay.com"
        elif environment == "sandbox":
            auth, api, apiz = (
                "auth.sandbox.ebay.com",
                "api.sandbox.ebay.com",
                "apiz.sandbox.ebay.com",
            )
        elif environment == "local":
            if not base_url:
                raise ValueError("The local eBay environment needs a base URL")
            root = base_url.rstrip("/")
            return cls(
                authorize_url=f"{root}/oauth2/authorize",
                token_url=f"{root}/identity/v1/oauth2/token",
                api_base=root,
                identity_base=root,
            )
        else:
            raise ValueError(f"Unknown eBay environment: {environment}")
        return cls(
            authorize_url=f"https://{auth}/oauth2/authorize",
            token_url=f"https://{api}/identity/v1/oauth2/token",
            api_base=f"https://{api}",
            identity_base=f"https://{apiz}",
        )
