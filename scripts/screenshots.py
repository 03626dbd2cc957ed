"""Save a PNG of every page of the window, with sample data, for a person to look at.

Run it under a virtual screen (a real X server, real fonts)::

    xvfb-run -a python scripts/screenshots.py --out docs/screenshots

or without one (``QT_QPA_PLATFORM=offscreen``). The data is made up in a temporary
folder: a small catalog, jobs in every status, a month of stats; nothing is sent
anywhere (processing stays paused).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qasync  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.db import Database  # noqa: E402
from app.marketplace import MarketplaceJobService  # noqa: E402
from app.models import MarketplaceJobStats, Product  # noqa: E402
from app.secret_store import FileSecretStore  # noqa: E402
from app.ui.desktop import Desktop, application  # noqa: E402
from app.ui.main_window import PAGES  # noqa: E402
from app.workbench import Workbench  # noqa: E402

PRODUCTS = [
    ("Levi's 501 jeans, W32 L34", "39.00", "Levi's", "W32"),
    ("Vintage denim jacket", "45.00", "Lee", "M"),
    ("Doc Martens 1460 boots", "85.00", "Dr. Martens", "42"),
    ("Patagonia fleece", "55.00", "Patagonia", "L"),
    ("Ray-Ban Wayfarer", "60.00", "Ray-Ban", ""),
    ("Nike Air Max 90", "70.00", "Nike", "43"),
]


def sample_data(db: Database) -> None:
    """A catalog, jobs in every status, and 30 days of stats."""
    service = MarketplaceJobService(db)
    with db.session() as session, session.begin():
        for i, (title, price, brand, size) in enumerate(PRODUCTS, start=1):
            session.add(
                Product(
                    title=title,
                    price=Decimal(price),
                    brand=brand,
                    size=size or None,
                    sku=f"SKU-{i:03d}",
                    quantity=1,
                    condition="very_good",
                    description=f"{title}, worn a few times, no flaws.",
                )
            )
    rng = random.Random(7)
    for product_id in range(1, len(PRODUCTS) + 1):
        for marketplace in ("vinted", "ebay", "etsy"):
            service.create_job(
                marketplace=marketplace, action_code="publish", product_id=product_id
            )
    jobs = service.list_jobs(limit=100)
    for job in jobs[:4]:
        service.cancel_job(job.id)
    for job in jobs[4:6]:
        service.pause_job(job.id)
    actions = {(a.marketplace, a.code): a.id for a in service.get_action_types()}
    today = datetime.now(UTC).date()
    with db.session() as session, session.begin():
        for day in range(30):
            for marketplace, rate in (("vinted", 0.93), ("ebay", 0.97), ("etsy", 0.88)):
                orders = "orders" if marketplace == "vinted" else "sync_orders"
                for code in ("publish", "update", orders):
                    total = rng.randint(3, 25)
                    ok = sum(rng.random() < rate for _ in range(total))
                    duration = sum(rng.randint(800, 6000) for _ in range(total))
                    session.add(
                        MarketplaceJobStats(
                            action_type_id=actions[(marketplace, code)],
                            marketplace=marketplace,
                            date=today - timedelta(days=day),
                            total_jobs=total,
                            success_count=ok,
                            failure_count=total - ok,
                            total_duration_ms=duration,
                            avg_duration_ms=duration / total,
                        )
                    )


async def shoot(out: Path) -> list[Path]:
    """Open the window on sample data and save each page."""
    folder = Path(tempfile.mkdtemp(prefix="marketdesk-shots-"))
    db = Database(f"sqlite:///{folder / 'sample.sqlite3'}")
    db.migrate()
    sample_data(db)
    workbench = Workbench(
        db, folder, secrets=FileSecretStore(folder / "secrets.json"), bridge_port=0
    )
    settings = QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)
    desktop = Desktop(
        db,
        folder,
        workbench=workbench,
        settings=settings,
        start_processing=False,
        show_welcome=False,
    )
    window = await desktop.open()
    window.resize(1280, 800)
    await asyncio.sleep(1.5)
    saved = []
    for index, (title, _key) in enumerate(PAGES):
        window.tabs.setCurrentIndex(index)  # built and loaded as it is first shown
        await asyncio.sleep(0.6)
        path = out / f"{index + 1:02d}-{title.lower().replace(' ', '-')}.png"
        window.grab().save(str(path))
        saved.append(path)
    desktop.closed.set()
    await desktop.close()
    db.close()
    return saved


def main() -> None:
    """Parse arguments and save the screenshots."""
    parser = argparse.ArgumentParser(description="Screenshots of every page")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app: QApplication = application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        for path in loop.run_until_complete(shoot(args.out)):
            print(path)


if __name__ == "__main__":
    main()
