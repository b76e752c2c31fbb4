"""One run of `map`: its jobs sent live or as batches on a worker thread, every finished row kept at once, stop and wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.cancellation import Cancellation
from ..core.pricing import Price
from ..core.settings import Settings
from ..core.structured import OutputSpec
from .batch import BatchDriver, BatchLimits
from .jobs import Job
from .journal import Journal
from .limiter import AdaptiveLimit
from .live import rows_loop, run_pool
from .outcome import Outcome, failed
from .progress import Snapshot

__all__ = ["Runner"]

_FINAL = ("ok", "invalid", "error", "expired")


class Runner:
    """Runs `jobs` in `mode` on its own thread; `outcomes` fills in as rows finish."""

    def __init__(self, *, session: Any, settings: Settings, jobs: list[Job], mode: str, spec: OutputSpec | None,
                 model: str, prices: dict[str, Price] | None, journal: Journal, outcomes: dict[str, Outcome],
                 concurrency: int, base_url: str, limits: BatchLimits | None = None,
                 adopt: dict[str, dict[str, Job]] | None = None) -> None:
        self.session, self.settings, self.jobs, self.mode = session, settings, jobs, mode
        self.spec, self.model, self.prices, self.base_url = spec, model, prices, base_url
        self.journal, self.outcomes = journal, outcomes
        self.limits, self.adopt = limits, adopt or {}
        self.limiter = AdaptiveLimit(concurrency)
        self.stop_signal = Cancellation()
        self.total = sum(len(job.rows) for job in jobs) + sum(len(j.rows) for js in self.adopt.values() for j in js.values())
        self.done_rows = sum(len(job.rows) for job in jobs if outcomes.get(job.id, _PENDING).status in _FINAL)
        self.failed_rows = 0
        self.cost = 0.0
        self.started = time.monotonic()
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.batches: BatchDriver | None = None
        self._lock = threading.Lock()
        self._future: Any = None
        self._thread: threading.Thread | None = None

    # --- progress ------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            done, failed_rows, cost = self.done_rows, self.failed_rows, self.cost
        if self.mode == "live":
            note = f"concurrency {self.limiter.limit}/{self.limiter.maximum}"
            if self.limiter.rate_limited:
                note += f" · {self.limiter.rate_limited} rate-limited answers"
        else:
            statuses = list(self.batches.status.values()) if self.batches else []
            note = f"{len(statuses)} batch{'es' if len(statuses) != 1 else ''}: " + (
                ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses))) or "submitting")
        return Snapshot(self.mode, self.total, done, failed_rows, cost, time.monotonic() - self.started, note)

    # --- row callbacks (any thread) ------------------------------------------------------------

    def _done(self, job: Job, outcome: Outcome) -> None:
        self._finished([(job, outcome)])

    def _finished(self, finished: list[tuple[Job, Outcome]]) -> None:
        """Rows that finished together: kept, journaled in one write, counted."""
        for job, outcome in finished:
            self.outcomes[job.id] = outcome
        self.journal.add_many([(job.id, outcome) for job, outcome in finished])
        done = failed_rows = 0
        cost = 0.0
        for job, outcome in finished:
            if outcome.status in _FINAL:
                done += len(job.rows)
            if outcome.status in ("error", "invalid", "expired"):
                failed_rows += len(job.rows)
            cost += outcome.cost or 0.0
        with self._lock:
            self.done_rows += done
            self.failed_rows += failed_rows
            self.cost += cost

    def _started(self, _job: Job) -> None:
        return None

    def _batch_created(self, batch_id: str, group: list[Job]) -> None:
        record = self.journal.record
        record.batch_ids.append(batch_id)
        record.batch_jobs[batch_id] = [job.id for job in group]
        self.journal.save()

    def _batch_collected(self, batch_id: str) -> None:
        if batch_id not in self.journal.record.collected:
            self.journal.record.collected.append(batch_id)
            self.journal.save()

    # --- running -------------------------------------------------------------------------------

    def start(self) -> Runner:
        self._thread = threading.Thread(target=self._run, name="claude-magic-map", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            if self.mode == "live":
                self._run_live()
            else:
                self._run_batches()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread, which reports it
            self.error = error
        finally:
            self._mark_unfinished()
            self.journal.save()
            self.journal.close()
            self.finished.set()

    def _run_live(self) -> None:
        if not self.jobs:
            return
        client = self.session.clients.get_async(self.settings, middleware=[self.limiter.middleware()])

        async def run() -> None:
            try:
                await run_pool(client, self.jobs, self.limiter, self.spec, self.model, self.prices, self.base_url,
                               self._done, self._started)
            finally:
                await client.close()

        self._future = rows_loop().submit(run())
        while True:
            try:
                self._future.result(timeout=0.2)
                return
            except TimeoutError:
                if self.stop_signal.cancelled:
                    self._future.cancel()
                    self.stop_signal.wait(0.05)
            except Exception as error:  # noqa: BLE001 - CancelledError after a stop is the normal end
                if self.stop_signal.cancelled:
                    return
                raise error

    def _run_batches(self) -> None:
        client = self.session.clients.get(self.settings)
        self.batches = BatchDriver(client, self.spec, self.model, self.prices, self.base_url, self._finished,
                                   self._batch_created, self.stop_signal, self.limits, self._batch_collected)
        for batch_id, jobs in self.adopt.items():
            self.batches.adopt(batch_id, jobs)
        self.batches.submit(self.jobs)
        self.batches.wait()

    def _mark_unfinished(self) -> None:
        """Rows that never got an answer are canceled (stopped) or stay pending."""
        note = "canceled: stopped before this row finished"
        adopted = [job for jobs in self.adopt.values() for job in jobs.values()]
        for job in [*self.jobs, *adopted]:
            if job.id not in self.outcomes:
                self.outcomes[job.id] = failed(note, status="canceled")

    def stop(self) -> None:
        """Cancel the remaining rows (and the batches); finished rows are kept."""
        self.stop_signal.cancel()

    def wait(self, timeout: float | None = None, tick: Callable[[], None] | None = None) -> bool:
        """Wait for the end (calling `tick` about 4 times a second); whether it ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.finished.wait(0.25):
            if tick is not None:
                tick()
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True


class _Pending:
    status = "pending"


_PENDING: Any = _Pending()
