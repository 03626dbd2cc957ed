"""Fake eBay and Etsy servers on loopback for tests of the marketplace clients.

``with FakeEbay() as ebay:`` / ``with FakeEtsy() as etsy:`` start a real HTTP/1.1 server on
127.0.0.1 (ephemeral port, ``.url``) and stop it (sockets closed, threads joined) on exit.
"""

from tests.fakes.base import FakeMarketplace
from tests.fakes.ebay import FakeEbay
from tests.fakes.etsy import FakeEtsy

__all__ = ["FakeEbay", "FakeEtsy", "FakeMarketplace"]
