"""One inventory across marketplaces (no Qt).

* :mod:`app.inventory.sales` - a sale seen by an order sync lowers the product's
  quantity, is recorded (oversells flagged) and queues the delete or quantity-update
  jobs of the product's other listings;
* :mod:`app.inventory.voids` - a recorded sale whose order is cancelled or refunded
  later gives its units back, cancels its follow-up jobs not started yet and says so;
* :mod:`app.inventory.alerts` - follows those jobs, marks each sale done or failed and
  raises :class:`app.events.SaleAlert` when a double sale is at stake;
* :mod:`app.inventory.schedule` - the recurring order syncs, their intervals kept in the
  ``schedules`` table;
* :mod:`app.inventory.crosslist` and :mod:`app.inventory.price_rules` - cross-listing in
  bulk with a price rule per marketplace.

Everything logs to the ``marketdesk.inventory`` logger.
"""
