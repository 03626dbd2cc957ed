"""The connect flows end to end against the fakes, and what is stored where."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.accounts import AccountError, AccountManager
from app.db import Database
from app.events import ConnectionChanged, Event
from app.models.user.marketplace_account import ConnectionState
from app.restapi.errors import OAuthError
from app.restapi.oauth_flow import LoopbackRedirect, code_from_redirect, pkce_pair
from app.secret_store import FileSecretStore, KeyringSecretStore
from tests.fakes import FakeEbay, FakeEtsy
from tests.support.marketplaces import ebay_settings, etsy_settings


@pytest.fixture
def backend() -> str:
    """These tests exercise HTTP and OAuth; SQLite is enough (eBay's run on both)."""
    return "sqlite"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def consent(url: str) -> str:
    """The seller agrees on the consent page: the address the browser lands on."""
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


async def test_ebay_connect_by_pasting_the_final_address(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay, secrets: KeyringSecretStore
) -> None:
    events: list[Event] = []
    db.events.subscribe(events.append)
    await accounts.configure(ebay_settings(fake_ebay), secret=fake_ebay.client_secret)
    assert (await accounts.status("ebay")).state == ConnectionState.DISCONNECTED

    pending = await accounts.begin_ebay()
    query = parse_qs(urlsplit(pending.url).query)
    assert query["redirect_uri"] == [fake_ebay.ru_name]
    assert "https://api.ebay.com/oauth/api_scope/sell.inventory" in query["scope"][0].split()
    landed = await consent(pending.url)
    assert landed.startswith(fake_ebay.accept_url)

    status = await accounts.finish_ebay(pending, f"  {landed}\n")

    assert status.state == ConnectionState.CONNECTED
    assert status.account == "fake_seller"
    assert status.until is not None  # the refresh token's expiry (about 18 months)
    assert any(
        isinstance(e, ConnectionChanged) and e.state == "connected" and e.account == "fake_seller"
        for e in events
    )
    client = await accounts.client("ebay")
    assert (await client.user())["username"] == "fake_seller"  # type: ignore[attr-defined]


async def test_ebay_paste_of_another_attempt_is_refused(
    accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await accounts.configure(ebay_settings(fake_ebay), secret=fake_ebay.client_secret)
    first = await accounts.begin_ebay()
    second = await accounts.begin_ebay()
    landed = await consent(first.url)
    with pytest.raises(OAuthError, match="belongs to another connection attempt"):
        await accounts.finish_ebay(second, landed)
    assert (await accounts.status("ebay")).state == ConnectionState.DISCONNECTED


async def test_ebay_bare_code_and_reused_code(
    accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await accounts.configure(ebay_settings(fake_ebay), secret=fake_ebay.client_secret)
    pending = await accounts.begin_ebay()
    landed = await consent(pending.url)
    code = parse_qs(urlsplit(landed).query)["code"][0]
    status = await accounts.finish_ebay(pending, code)
    assert status.state == ConnectionState.CONNECTED
    with pytest.raises(OAuthError, match="invalid"):
        await accounts.finish_ebay(pending, code)  # codes are single use


async def test_ebay_wrong_client_secret_is_named(
    accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await accounts.configure(ebay_settings(fake_ebay), secret="wrong")
    pending = await accounts.begin_ebay()
    landed = await consent(pending.url)
    with pytest.raises(Exception, match="rejected the app credentials"):
        await accounts.finish_ebay(pending, landed)


def test_paste_parsing() -> None:
    with pytest.raises(OAuthError, match="did not grant access: The user denied"):
        code_from_redirect(
            "https://x.invalid/declined?error=access_denied&error_description=The+user+denied&state=s",
            "s",
            "eBay",
        )
    with pytest.raises(OAuthError, match="Paste the address"):
        code_from_redirect("   ", "s", "eBay")
    assert code_from_redirect("?state=s&code=abc%5E1", "s", "eBay") == "abc^1"


async def test_etsy_connect_with_pkce_and_loopback_redirect(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy
) -> None:
    redirect = f"http://localhost:{free_port()}/etsy/callback"
    fake_etsy.register_redirect_uri(redirect)
    await accounts.configure(
        etsy_settings(fake_etsy, redirect=redirect), secret=fake_etsy.shared_secret
    )
    browser_tasks: list[asyncio.Task[httpx.Response]] = []

    async def browse(url: str) -> httpx.Response:
        async with httpx.AsyncClient(follow_redirects=True) as browser:
            return await browser.get(url)

    def open_browser(url: str) -> None:
        query = parse_qs(urlsplit(url).query)
        assert query["code_challenge_method"] == ["S256"]
        browser_tasks.append(asyncio.create_task(browse(url)))

    status = await accounts.connect_etsy(open_browser, timeout=10)

    page = await browser_tasks[0]
    assert page.status_code == 200 and "return to Marketdesk" in page.text
    assert fake_etsy.pkce_verified == 1
    assert status.state == ConnectionState.CONNECTED
    assert status.account == fake_etsy.shop_name
    settings = await accounts.settings("etsy")
    assert settings is not None and settings.shop_id == str(fake_etsy.shop_id)


async def test_etsy_refresh_rotates_the_stored_refresh_token(
    accounts: AccountManager, fake_etsy: FakeEtsy
) -> None:
    await accounts.configure(etsy_settings(fake_etsy), secret=fake_etsy.shared_secret)
    from app.restapi.tokens import TokenSet

    await accounts.store_tokens("etsy", TokenSet.from_response(fake_etsy.issue_tokens()))
    key = next(k for (_s, k) in accounts.secrets.backend.passwords if k.endswith("/tokens"))  # type: ignore[attr-defined]
    before = TokenSet.from_json(accounts.secrets.get(key) or "")
    fake_etsy.expire_access_tokens()
    client = await accounts.client("etsy")
    await client.me()  # type: ignore[attr-defined]
    after = TokenSet.from_json(accounts.secrets.get(key) or "")
    assert fake_etsy.token_refreshes == 1
    assert after.refresh_token != before.refresh_token
    assert after.access_token != before.access_token


async def test_loopback_listener_times_out_and_frees_the_port() -> None:
    port = free_port()
    listener = LoopbackRedirect(f"http://localhost:{port}/cb")
    await listener.start()
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(f"http://127.0.0.1:{port}/favicon.ico")).status_code == 404
        assert (await browser.get(f"http://127.0.0.1:{port}/cb")).status_code == 400
    with pytest.raises(OAuthError, match="No answer from the browser"):
        await listener.wait(0.2)
    again = LoopbackRedirect(f"http://localhost:{port}/cb")
    await again.start()  # the port was released
    await again.close()


async def test_loopback_listener_refuses_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listener = LoopbackRedirect(f"http://localhost:{port}/cb")
        with pytest.raises(OAuthError, match=f"Cannot listen on port {port}"):
            await listener.start()
        await listener.close()


def test_loopback_listener_needs_a_local_http_address() -> None:
    with pytest.raises(OAuthError, match="must be http://localhost"):
        LoopbackRedirect("https://example.com/cb")
    with pytest.raises(OAuthError, match="needs a port"):
        LoopbackRedirect("http://localhost/cb")


def test_pkce_pair_is_s256() -> None:
    import base64
    import hashlib

    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == digest.decode()


async def test_settings_are_validated_field_by_field(
    accounts: AccountManager, fake_ebay: FakeEbay, fake_etsy: FakeEtsy
) -> None:
    with pytest.raises(AccountError, match="client_id: the App ID"):
        await accounts.configure(ebay_settings(fake_ebay, client_id=" "))
    with pytest.raises(AccountError, match="redirect: the RuName is required"):
        await accounts.configure(ebay_settings(fake_ebay, redirect=""))
    with pytest.raises(AccountError, match="environment: must be one of production, local"):
        await accounts.configure(etsy_settings(fake_etsy, environment="sandbox"))
    with pytest.raises(AccountError, match="base_url: a local environment needs"):
        await accounts.configure(ebay_settings(fake_ebay, base_url="ftp://x"))
    assert await accounts.settings("ebay") is None


async def test_disconnect_forgets_tokens_but_keeps_the_app(
    accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    from tests.support.marketplaces import connect_ebay

    await connect_ebay(accounts, fake_ebay)
    status = await accounts.disconnect("ebay")
    assert status.state == ConnectionState.DISCONNECTED and status.account is None
    assert not any(k.endswith("/tokens") for (_s, k) in accounts.secrets.backend.passwords)  # type: ignore[attr-defined]
    assert (await accounts.status("ebay")).configured


def test_file_fallback_is_private(tmp_path: Path) -> None:
    store = FileSecretStore(tmp_path / "data" / "secrets.json")
    assert not store.secure and "no system keyring" in store.description
    store.set("a", "1")
    store.set("b", "2")
    store.delete("a")
    store.delete("missing")
    assert (store.get("a"), store.get("b")) == (None, "2")
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "secrets.json").st_mode)
    assert mode == 0o600
    (tmp_path / "data" / "secrets.json").write_text("[1, 2]")
    with pytest.raises(Exception, match="damaged"):
        store.get("b")
