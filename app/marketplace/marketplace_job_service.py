"""Creating and steering jobs: create, batches, cancel, pause, resume, retry, expire, stats.

Every method is synchronous and runs one short transaction of its own; the asyncio side
calls it through ``Database.run``. Status changes are guarded UPDATEs, and events are
published on ``db.events`` after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import Database, utcnow
from app.db.notify import notify_new_job
from app.events import JobChanged, JobCreated, StatsChanged
from app.marketplace import housekeeping, store
from app.marketplace.action_types import ActionInfo, check_marketplace, find_action_type
from app.marketplace.errors import InvalidJobRequestError, JobNotFoundError, JobStateError
from app.marketplace.job_keys import idempotency_key
from app.marketplace.names import MARKETPLACE_VALUES
from app.marketplace.stats import StatsBatch, dialect_insert, upsert
from app.marketplace.tables import jobs
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_batch import MarketplaceBatch
from app.models.user.marketplace_job import (
    ACTIVE_STATUSES,
    ACTIVE_WHERE,
    JobStatus,
    MarketplaceJob,
)
from app.models.user.marketplace_job_stats import MarketplaceJobStats
from app.models.user.product import Product

log = logging.getLogger("marketdesk.jobs")

_ACTIVE = [s.value for s in ACTIVE_STATUSES]


class MarketplaceJobService:
    """The one entry point for creating and steering jobs of one seller."""

    def __init__(self, db: Database, user_id: int = 1) -> None:
        self.db = db
        self.user_id = user_id

    def _session(self, readonly: bool = False) -> Session:
        return self.db.session(self.user_id, readonly=readonly)

    # -- creation ---------------------------------------------------------------------
    def create_job(
        self,
        marketplace: str | None = None,
        action_code: str = "",
        product_id: int | None = None,
        priority: int | None = None,
        input_data: dict[str, Any] | None = None,
        *,
        expires_at: datetime | None = None,
        run_at: datetime | None = None,
        idempotency_key: str | None = None,
        batch_id: int | None = None,
    ) -> MarketplaceJob:
        """Queue ``action_code`` on ``marketplace`` (``None`` means Vinted, the seeds' old form).

        A second request for an active job with the same idempotency key returns the job
        already queued instead of creating a duplicate.
        """
        with self._session() as session, session.begin():
            job, created = self._create(
                session,
                marketplace=marketplace,
                action_code=action_code,
                product_id=product_id,
                priority=priority,
                input_data=input_data,
                expires_at=expires_at,
                run_at=run_at,
                key=idempotency_key,
                batch_id=batch_id,
            )
        if created:
            self.db.events.publish(JobCreated(job.id, job.marketplace, self.user_id))
        return job

    def create_batch(
        self,
        marketplace: str,
        action_code: str,
        product_ids: Sequence[int],
        priority: int | None = None,
        input_data: dict[str, Any] | None = None,
        *,
        expires_at: datetime | None = None,
        run_at: datetime | None = None,
        per_product: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> tuple[MarketplaceBatch, list[MarketplaceJob]]:
        """Queue one action for many products in one transaction, grouped as a batch.

        ``per_product`` adds a product's own input (a price) over ``input_data``. Products
        that already have the same job active keep it, returned but not counted in the batch.
        """
        if not product_ids:
            raise InvalidJobRequestError("A batch needs at least one product")
        if len(set(product_ids)) != len(product_ids):
            raise InvalidJobRequestError("A batch lists the same product more than once")
        if not (own := dict(per_product or {})).keys() <= set(product_ids):
            raise InvalidJobRequestError("per_product names products that are not in the batch")
        marketplace = check_marketplace(marketplace)
        created_ids: list[int] = []
        with self._session() as session, session.begin():
            action = find_action_type(session, marketplace, action_code)
            batch = MarketplaceBatch(
                marketplace=marketplace, action_type_id=action.id, status="pending", total_count=0
            )
            session.add(batch)
            session.flush()
            result = []
            for product_id in product_ids:
                extra = own.get(product_id)
                job, created = self._create(
                    session,
                    marketplace=marketplace,
                    action_code=action_code,
                    product_id=product_id,
                    priority=priority,
                    input_data={**(input_data or {}), **extra} if extra else input_data,
                    expires_at=expires_at,
                    run_at=run_at,
                    batch_id=batch.id,
                    action=action,
                )
                result.append(job)
                if created:
                    created_ids.append(job.id)
            batch.total_count = len(created_ids)
            if not created_ids:
                batch.status = "completed"
                batch.completed_at = utcnow()
        for job_id in created_ids:
            self.db.events.publish(JobCreated(job_id, marketplace, self.user_id))
        return batch, result

    def _create(
        self,
        session: Session,
        *,
        marketplace: str | None,
        action_code: str,
        product_id: int | None,
        priority: int | None,
        input_data: dict[str, Any] | None,
        expires_at: datetime | None = None,
        run_at: datetime | None = None,
        key: str | None = None,
        batch_id: int | None = None,
        action: ActionInfo | None = None,
    ) -> tuple[MarketplaceJob, bool]:
        marketplace = check_marketplace(marketplace or "vinted")
        if action is None:
            action = find_action_type(session, marketplace, action_code)
        if action.needs_product and product_id is None:
            raise InvalidJobRequestError(
                f"Action {action.code} on {marketplace} needs a product (product_id is missing)"
            )
        if product_id is not None and session.get(Product, product_id) is None:
            raise InvalidJobRequestError(f"Unknown product: {product_id}")
        if priority is None:
            priority = action.priority
        if not 1 <= priority <= 4:
            raise InvalidJobRequestError(
                f"Invalid priority: {priority} (1 is most urgent, 4 least)"
            )
        if input_data is not None and not isinstance(input_data, dict):
            raise InvalidJobRequestError("input_data must be a JSON object")
        now = self.db.now(session.connection())
        key = key or idempotency_key(marketplace, action.code, product_id, input_data)
        stmt: Any = dialect_insert(session.connection(), jobs).values(
            marketplace=marketplace,
            action_type_id=action.id,
            batch_id=batch_id,
            product_id=product_id,
            idempotency_key=key,
            status=JobStatus.PENDING.value,
            cancel_requested=False,
            priority=priority,
            input_data=input_data,
            retry_count=0,
            max_retries=action.max_retries,
            attempts=0,
            run_at=run_at or now,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_nothing(
            index_elements=[jobs.c.idempotency_key],
            # literal, like the index's own predicate: PostgreSQL cannot match a partial
            # index against bound parameters once the statement is server-side prepared
            index_where=ACTIVE_WHERE,
        ).returning(jobs.c.id)
        new_id = session.execute(stmt).scalar()
        if new_id is not None:
            self._notify(session)
            job = session.get_one(MarketplaceJob, new_id)
            log.info("created job %s: %s on %s", new_id, action.code, marketplace)
            return job, True
        existing = session.scalars(
            select(MarketplaceJob).where(
                MarketplaceJob.idempotency_key == key, MarketplaceJob.status.in_(_ACTIVE)
            )
        ).one()
        log.info("job %s already queued for %s; not creating a duplicate", existing.id, key)
        return existing, False

    # -- reading ----------------------------------------------------------------------
    def get_job(self, job_id: int) -> MarketplaceJob:
        """The job ``job_id`` or :class:`JobNotFoundError`."""
        with self._session(readonly=True) as session:
            job = session.get(MarketplaceJob, job_id)
            if job is None:
                raise JobNotFoundError(job_id)
            return job

    def list_jobs(
        self,
        *,
        status: str | None = None,
        marketplace: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MarketplaceJob]:
        """Jobs newest first, optionally filtered."""
        query = (
            select(MarketplaceJob).order_by(MarketplaceJob.id.desc()).limit(limit).offset(offset)
        )
        if status is not None:
            query = query.where(MarketplaceJob.status == JobStatus(status).value)
        if marketplace is not None:
            query = query.where(MarketplaceJob.marketplace == check_marketplace(marketplace))
        with self._session(readonly=True) as session:
            return list(session.scalars(query).all())

    def count_by_status(self, marketplace: str | None = None) -> dict[str, int]:
        """How many jobs are in each status."""
        query = select(MarketplaceJob.status, func.count()).group_by(MarketplaceJob.status)
        if marketplace is not None:
            query = query.where(MarketplaceJob.marketplace == check_marketplace(marketplace))
        with self._session(readonly=True) as session:
            counts = {status.value: 0 for status in JobStatus}
            counts.update({row[0]: row[1] for row in session.execute(query)})
            return counts

    def counts_by_marketplace(self) -> dict[str, dict[str, int]]:
        """How many jobs each marketplace has in each status, in one grouped query."""
        query = select(MarketplaceJob.marketplace, MarketplaceJob.status, func.count()).group_by(
            MarketplaceJob.marketplace, MarketplaceJob.status
        )
        counts = {m: {status.value: 0 for status in JobStatus} for m in MARKETPLACE_VALUES}
        with self._session(readonly=True) as session:
            for marketplace, status, count in session.execute(query):
                counts.setdefault(marketplace, {})[status] = count
        return counts

    def get_action_types(self, marketplace: str | None = None) -> list[MarketplaceActionType]:
        """The action types, optionally of one marketplace."""
        query = select(MarketplaceActionType).order_by(
            MarketplaceActionType.marketplace, MarketplaceActionType.code
        )
        if marketplace is not None:
            query = query.where(MarketplaceActionType.marketplace == check_marketplace(marketplace))
        with self._session(readonly=True) as session:
            return list(session.scalars(query).all())

    # -- steering ---------------------------------------------------------------------
    def cancel_job(self, job_id: int) -> MarketplaceJob:
        """Cancel a job: at once when it waits, by request when it runs.

        A running job gets ``cancel_requested``; its worker sees it on its next heartbeat
        and stops the handler.
        """
        with self._session() as session, session.begin():
            conn = session.connection()
            now = self.db.now(conn)
            row = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status.in_(["pending", "paused"]))
                .values(status="cancelled", completed_at=now, updated_at=now, cancel_requested=True)
                .returning(jobs.c.batch_id)
            ).first()
            if row is not None:
                counters = store.Counters()
                counters.count("cancelled", row.batch_id)
                counters.flush(conn, now)
            else:
                running = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status == "running")
                    .values(cancel_requested=True, updated_at=now)
                    .returning(jobs.c.id)
                ).first()
                if running is None:
                    self._refuse(session, job_id, "cancelled")
            job = session.get_one(MarketplaceJob, job_id)
            session.refresh(job)
        self._changed(job)
        return job

    def pause_job(self, job_id: int) -> MarketplaceJob:
        """Hold a pending job back until it is resumed."""
        return self._transition(job_id, ["pending"], "paused", "paused")

    def resume_job(self, job_id: int) -> MarketplaceJob:
        """Put a paused job back in the queue, to run now."""
        return self._transition(job_id, ["paused"], "pending", "resumed", runnable=True)

    def resume_paused_by_errors(self, marketplace: str) -> list[int]:
        """Queue again the jobs of ``marketplace`` that a failure paused (not the seller).

        Called once the seller reconnected an account: jobs paused with "reconnect
        needed" carry that error; jobs the seller paused by hand carry none and stay.
        """
        marketplace = check_marketplace(marketplace)
        with self._session() as session, session.begin():
            conn = session.connection()
            now = self.db.now(conn)
            ids = [
                row.id
                for row in conn.execute(
                    update(jobs)
                    .where(
                        jobs.c.marketplace == marketplace,
                        jobs.c.status == "paused",
                        jobs.c.error_message.is_not(None),
                    )
                    .values(status="pending", run_at=now, updated_at=now)
                    .returning(jobs.c.id)
                )
            ]
            if ids:
                self._notify(session)
        self.db.events.publish_many(
            JobChanged(job_id, marketplace, "pending", self.user_id) for job_id in ids
        )
        return ids

    def retry_job(self, job_id: int) -> MarketplaceJob:
        """Queue a failed, cancelled or expired job again with a fresh retry budget."""
        with self._session() as session, session.begin():
            conn = session.connection()
            now = self.db.now(conn)
            current = session.get(MarketplaceJob, job_id)
            if current is None:
                raise JobNotFoundError(job_id)
            old_status = current.status
            duplicate = session.scalars(
                select(MarketplaceJob.id).where(
                    MarketplaceJob.idempotency_key == current.idempotency_key,
                    MarketplaceJob.status.in_(_ACTIVE),
                    MarketplaceJob.id != job_id,
                )
            ).first()
            if duplicate is not None:
                raise JobStateError(
                    f"Job {job_id} cannot be retried: job {duplicate} already does the same work"
                )
            row = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == job_id,
                    jobs.c.status == old_status,
                    jobs.c.status.in_(["failed", "cancelled", "expired"]),
                )
                .values(
                    status="pending",
                    retry_count=0,
                    cancel_requested=False,
                    error_message=None,
                    run_at=now,
                    completed_at=None,
                    updated_at=now,
                )
                .returning(jobs.c.batch_id)
            ).first()
            if row is None:
                self._refuse(session, job_id, "retried")
            else:
                counters = store.Counters()
                counters.count(old_status, row.batch_id, sign=-1)
                counters.flush(conn, now)
                self._notify(session)
            session.refresh(current)
        self._changed(current)
        return current

    def expire_job(self, job_id: int) -> MarketplaceJob:
        """Give up on a waiting job: it will not run."""
        with self._session() as session, session.begin():
            now = self.db.now(session.connection())
            if not housekeeping.expire_overdue(session.connection(), now, [job_id]):
                self._refuse(session, job_id, "expired")
            job = session.get_one(MarketplaceJob, job_id)
            session.refresh(job)
        self._changed(job)
        return job

    def expire_overdue(self) -> int:
        """Expire every waiting job whose deadline passed; returns how many."""
        with self._session() as session, session.begin():
            changed = housekeeping.expire_overdue(
                session.connection(), self.db.now(session.connection())
            )
        for t in changed:
            self.db.events.publish(JobChanged(t.job_id, t.marketplace, t.status, self.user_id))
        return len(changed)

    def _transition(
        self, job_id: int, allowed: list[str], target: str, verb: str, *, runnable: bool = False
    ) -> MarketplaceJob:
        with self._session() as session, session.begin():
            now = self.db.now(session.connection())
            values: dict[str, Any] = {"run_at": now} if runnable else {}
            row = (
                session.connection()
                .execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status.in_(allowed))
                    .values(status=target, updated_at=now, **values)
                    .returning(jobs.c.id)
                )
                .first()
            )
            if row is None:
                self._refuse(session, job_id, verb)
            elif runnable:
                self._notify(session)
            job = session.get_one(MarketplaceJob, job_id)
            session.refresh(job)
        self._changed(job)
        return job

    def _notify(self, session: Session) -> None:
        """Tell idle workers of other processes that a job became runnable (PostgreSQL)."""
        if self.db.is_postgres:
            notify_new_job(session.connection(), self.user_id)

    def _refuse(self, session: Session, job_id: int, verb: str) -> None:
        status = session.scalar(select(MarketplaceJob.status).where(MarketplaceJob.id == job_id))
        if status is None:
            raise JobNotFoundError(job_id)
        raise JobStateError(f"Job {job_id} is {status} and cannot be {verb}")

    def _changed(self, job: MarketplaceJob) -> None:
        self.db.events.publish(JobChanged(job.id, job.marketplace, job.status, self.user_id))

    # -- stats ------------------------------------------------------------------------
    def update_job_stats(
        self,
        job: MarketplaceJob,
        success: bool,
        duration_ms: int | None,
        marketplace: str,
        *,
        session: Session | None = None,
    ) -> None:
        """Count one finished job in today's stats with one atomic upsert.

        The processor calls this inside the transaction of the job's terminal status
        change (pass that ``session``); without one it runs its own transaction.
        """
        marketplace = check_marketplace(marketplace)
        now = utcnow()
        batch = StatsBatch()
        batch.add(job.action_type_id, marketplace, now.date(), success, duration_ms)
        if session is not None:
            upsert(session.connection(), batch, now)
        else:
            with self._session() as own, own.begin():
                upsert(own.connection(), batch, now)
        self.db.events.publish(StatsChanged(marketplace, self.user_id))

    def get_stats(self, days: int = 7, marketplace: str | None = None) -> list[MarketplaceJobStats]:
        """Stats rows of the last ``days`` UTC days (today included), newest first."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        start: date = utcnow().date() - timedelta(days=days - 1)
        query = select(MarketplaceJobStats).where(MarketplaceJobStats.date >= start)
        if marketplace:
            query = query.where(MarketplaceJobStats.marketplace == check_marketplace(marketplace))
        query = query.order_by(
            MarketplaceJobStats.date.desc(),
            MarketplaceJobStats.marketplace,
            MarketplaceJobStats.action_type_id,
        )
        with self._session(readonly=True) as session:
            return list(session.scalars(query).all())
