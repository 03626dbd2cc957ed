"""Persistence of a job's sub-steps (``marketplace_tasks``), used by ``BaseJobHandler.step``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from app.db import utcnow
from app.marketplace.stats import dialect_insert
from app.marketplace.tables import tasks
from app.models.user.marketplace_task import TaskStatus


def completed_steps(conn: Connection, job_id: int) -> dict[str, dict[str, Any]]:
    """Results of the steps of ``job_id`` that already finished, by step name."""
    rows = conn.execute(
        select(tasks.c.name, tasks.c.result_data).where(
            tasks.c.job_id == job_id, tasks.c.status == TaskStatus.COMPLETED.value
        )
    ).all()
    return {row.name: row.result_data or {} for row in rows}


def start_step(conn: Connection, job_id: int, name: str) -> int:
    """Record that step ``name`` of ``job_id`` starts (again); returns its attempt number."""
    now = utcnow()
    position = conn.execute(
        select(func.coalesce(func.max(tasks.c.position), 0) + 1).where(tasks.c.job_id == job_id)
    ).scalar_one()
    stmt: Any = dialect_insert(conn, tasks).values(
        job_id=job_id,
        name=name,
        position=position,
        status=TaskStatus.RUNNING.value,
        attempts=1,
        started_at=now,
    )
    attempts = conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[tasks.c.job_id, tasks.c.name],
            set_={
                "status": TaskStatus.RUNNING.value,
                "attempts": tasks.c.attempts + 1,
                "started_at": now,
                "error_message": None,
            },
            where=tasks.c.status != TaskStatus.COMPLETED.value,
        ).returning(tasks.c.attempts)
    ).scalar()
    return int(attempts or 1)


def finish_step(
    conn: Connection, job_id: int, name: str, result: dict[str, Any] | None, error: str | None
) -> None:
    """Record the outcome of step ``name``: its result when it worked, its error when not."""
    status = TaskStatus.FAILED if error is not None else TaskStatus.COMPLETED
    conn.execute(
        update(tasks)
        .where(
            tasks.c.job_id == job_id,
            tasks.c.name == name,
            tasks.c.status == TaskStatus.RUNNING.value,
        )
        .values(status=status.value, result_data=result, error_message=error, completed_at=utcnow())
    )
