"""`claude_magic.map` and `claude_magic.map_resume`: options checked, cost shown (and confirmed), the run started, waited for or handed back."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from typing import Any

from ..core.errors import ClaudeMagicError, ConfigurationError
from ..core.model_names import resolve_model
from ..core.settings import Settings, ViewOptions
from ..core.structured import OutputSpec, output_spec
from .batch import BatchLimits
from .confirm import confirm_cost
from .estimate import Estimate, estimate_cost
from .inputs import Rows, read_rows, render_prompts, template_prefix
from .jobs import Job, build_jobs
from .journal import Journal, RunRecord, find_run, new_run_id
from .outcome import Outcome
from .progress import make_progress
from .result import MapResult
from .runner import Runner

__all__ = ["map", "map_resume", "MapRun", "AUTO_BATCH_ABOVE", "DEFAULT_CONCURRENCY"]

AUTO_BATCH_ABOVE = 5_000          # mode="auto": more requests than this go to the Batches API
DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_TOKENS = 1024
ROW_RETRIES = 4                   # the SDK's retries per row (429, 5xx, connection), unless max_retries= says
MODES = ("auto", "live", "batch")


class MapRun:
    """A run going on in the background (`wait=False`): `.stop()`, `.done`, `.result()`, `.progress`."""

    def __init__(self, runner: Runner, finish: Callable[[], MapResult]) -> None:
        self._runner = runner
        self._finish = finish
        self._result: MapResult | None = None

    @property
    def done(self) -> bool:
        return self._runner.finished.is_set()

    @property
    def progress(self) -> str:
        return self._runner.snapshot().line()

    def stop(self) -> None:
        """Cancel the remaining rows (and batches); finished rows are kept."""
        self._runner.stop()

    def result(self, timeout: float | None = None) -> MapResult:
        """Wait for the end and return the result (Ctrl-C stops the run, keeping finished rows)."""
        if self._result is None:
            try:
                if not self._runner.wait(timeout):
                    raise ClaudeMagicError(f"The run is still going after {timeout} s ({self.progress}).")
            except KeyboardInterrupt:
                self._runner.stop()
                self._runner.wait()
            self._result = self._finish()
        return self._result

    def __repr__(self) -> str:
        state = "done" if self.done else "running"
        return f"<MapRun {self._runner.journal.record.run_id} {state}: {self.progress}>"


def _session() -> Any:
    """The kernel's session, with `%config ClaudeMagic...` applied (`core.kernel_session`)."""
    from ..core.kernel_session import current_session

    return current_session()


def _settings(base: Settings, *, model: str | None, system: str | None, max_tokens: int | None,
              think: str | int | None, effort: str | None, max_retries: int | None,
              spec: OutputSpec | None) -> Settings:
    from ..core.turn_settings import turn_settings

    settings, _options = turn_settings(base, model=model, system=system, max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
                                       think=think, effort=effort, web=False)   # rows never search the web (cost)
    if think is None and effort is None:
        settings = settings.with_options(thinking="off")
    if max_retries is not None and max_retries < 0:
        raise ConfigurationError(f"max_retries must be 0 or more, not {max_retries}")
    settings = settings.with_options(max_retries=ROW_RETRIES if max_retries is None else max_retries)
    if spec is not None:
        settings = settings.with_options(output_format=spec.format)
    return settings


def _choose_mode(mode: str, requests: int, batch_above: int) -> str:
    if mode not in MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "auto":
        return mode
    chosen = "batch" if requests > batch_above else "live"
    if chosen == "batch":
        print(f"claude_magic.map: {requests:,} requests (more than batch_above={batch_above:,}) go to the Message "
              "Batches API: half price, results as batches end (up to 24 hours). mode='live' sends them now.",
              flush=True)
    return chosen


def _threshold(max_cost: float | None, options: ViewOptions) -> float | None:
    if max_cost is not None:
        if max_cost < 0 or (isinstance(max_cost, float) and math.isnan(max_cost)):
            raise ConfigurationError(f"max_cost must be a positive number of USD, not {max_cost}")
        return max_cost
    return options.map_confirm_above


def map(prompt: str | Callable[[Any], Any], data: Any, *, output: Any = None, model: str | None = None,  # noqa: A001
        system: str | None = None, mode: str = "auto", concurrency: int | None = None, max_cost: float | None = None,
        max_tokens: int | None = None, think: str | int | None = None, effort: str | None = None,
        max_retries: int | None = None, batch_above: int = AUTO_BATCH_ABOVE, wait: bool = True,
        progress: bool = True, journal: bool = True, batch_limits: BatchLimits | None = None,
        attach: str | os.PathLike[str] | None = None) -> Any:
    """Ask one prompt of every row of `data`; returns a `MapResult` aligned with the input (`wait=False`: a `MapRun`).

    `attach`: a file (PDF, image or text) every row's prompt starts with; a PDF or image is uploaded once through
    the Files API and every request refers to it by id (text is sent as a cached block).

    `prompt` is a template over column names ("Classify: {text}", `{value}` for plain values) or a function
    of a row. `output` (pydantic model, dataclass, TypedDict, JSON-schema dict) gives one column per field.
    `mode`: "live" (concurrent requests now), "batch" (Message Batches API, half price) or "auto" (batches
    above `batch_above` requests). Before starting, the cost is estimated; above `max_cost` (default
    `ClaudeMagic.map_confirm_above`, $1) it asks. Identical prompts are sent once. Ctrl-C keeps finished rows.
    """
    session = _session()
    spec = output_spec(output) if output is not None else None
    settings = _settings(session.settings, model=model, system=system, max_tokens=max_tokens, think=think,
                         effort=effort, max_retries=max_retries, spec=spec)
    concurrency = DEFAULT_CONCURRENCY if concurrency is None else concurrency
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a positive integer, not {concurrency!r}")
    rows = read_rows(data)
    if not len(rows):
        raise ConfigurationError("map got no rows: the data is empty")
    prompts = render_prompts(prompt, rows)
    client = session.clients.get(settings)
    shared = _shared(session, client, attach)
    jobs = build_jobs(prompts, settings, template_prefix(prompt) if isinstance(prompt, str) else "", shared)
    chosen = _choose_mode(mode, len(jobs), batch_above)
    resolved = resolve_model(settings.model, settings.aliases)
    estimate = estimate_cost(client, jobs, resolved, session.prices)
    _confirm(estimate, chosen, _threshold(max_cost, session.view_options))
    record = RunRecord(run_id=new_run_id(), model=resolved, mode=chosen, rows=len(rows), kind=rows.kind,
                       labels=_labels(rows), jobs={job.id: job.rows for job in jobs},
                       schema=spec.name if spec is not None else None, fields=spec.fields if spec is not None else [])
    return _start(session, settings, record, jobs, {}, spec, rows.index, estimate, concurrency, wait, progress,
                  journal, batch_limits, adopt=None)


def _shared(session: Any, client: Any, attach: str | os.PathLike[str] | None) -> tuple[dict[str, Any], ...]:
    """The blocks every row starts with: `attach` as a document or image sent by file id (uploaded once per
    credential), or as text; inline, with a line saying so, when the server refuses the upload."""
    if attach is None:
        return ()
    import anthropic

    from ..notebook.attachments import attachment_block

    block = attachment_block(os.fspath(attach), {})
    if block.get("type") not in ("document", "image"):
        return (block,)
    try:
        return (session.uploads.upload(client, block),)
    except anthropic.APIStatusError as error:
        print(f"claude_magic.map: the Files API upload failed ({error.status_code}); the attachment is sent inline "
              "with every row.", flush=True)
        return (block,)


def _confirm(estimate: Estimate, mode: str, threshold: float | None) -> None:
    cost = estimate.cost_for(mode)
    if threshold is not None and cost is not None and cost > threshold:
        confirm_cost(estimate.describe(mode), cost, threshold)


def _labels(rows: Rows) -> list[Any] | None:
    """The pandas index as JSON-able values (None when it is the default range or cannot be stored)."""
    if rows.index is None:
        return None
    labels = rows.labels()
    if labels == list(range(len(labels))):
        return None
    return labels if all(isinstance(v, (str, int, float, bool)) for v in labels) else None


def _start(session: Any, settings: Settings, record: RunRecord, jobs: list[Job], outcomes: dict[str, Outcome],
           spec: OutputSpec | None, index: Any, estimate: Estimate | None, concurrency: int, wait: bool,
           progress: bool, journal: bool, batch_limits: BatchLimits | None,
           adopt: dict[str, dict[str, Job]] | None) -> Any:
    from ..transport.client import resolved_base_url

    log = Journal(record, enabled=journal)
    log.save()
    runner = Runner(session=session, settings=settings, jobs=jobs, mode=record.mode, spec=spec, model=record.model,
                    prices=session.prices, journal=log, outcomes=outcomes, concurrency=concurrency,
                    base_url=resolved_base_url(settings), limits=batch_limits, adopt=adopt)
    display = make_progress(progress, background=not wait)
    title = _title(record, jobs, estimate)
    started = time.monotonic()

    def finish() -> MapResult:
        note = "stopped: the rows not finished are canceled — map_resume(result) runs them" \
            if runner.stop_signal.cancelled else ""
        result = MapResult(record, outcomes, spec, index=index, duration=time.monotonic() - started,
                           estimate=estimate, note=note)
        result._jobs = {job.id: job for job in [*jobs, *(j for js in (adopt or {}).values() for j in js.values())]}
        if display is not None:
            display.update(runner.snapshot())
            display.finish(result.summary())
        if runner.error is not None:
            raise _failure(runner.error, result)
        return result

    if display is not None:
        display.start(title, runner.snapshot(), runner.stop)
    runner.start()
    if not wait:
        if display is not None:
            _tick_in_background(runner, display)
        return MapRun(runner, finish)
    try:
        runner.wait(tick=(lambda: display.update(runner.snapshot())) if display is not None else None)
    except KeyboardInterrupt:
        runner.stop()
        with contextlib.suppress(KeyboardInterrupt):   # a second Ctrl-C: stop waiting (batch ids are recorded)
            runner.wait(tick=(lambda: display.update(runner.snapshot())) if display is not None else None)
    return finish()


def _tick_in_background(runner: Runner, display: Any) -> None:
    import threading

    def tick() -> None:
        while not runner.finished.wait(0.25):
            display.update(runner.snapshot())

    threading.Thread(target=tick, name="claude-magic-map-progress", daemon=True).start()


def _title(record: RunRecord, jobs: list[Job], estimate: Estimate | None) -> str:
    what = f"{record.rows:,} rows → {len(jobs):,} requests" if len(jobs) != record.rows else f"{record.rows:,} rows"
    cost = f"; {estimate.describe(record.mode)}" if estimate is not None else ""
    return f"{what}, {record.mode} mode, {record.model} (run {record.run_id}){cost}"


def _failure(error: BaseException, result: MapResult) -> BaseException:
    """The run itself failed (not one row): a one-line error with the partial result attached."""
    if isinstance(error, ClaudeMagicError):
        error.result = result  # type: ignore[attr-defined]
        return error
    wrapped = ClaudeMagicError(f"map stopped: {type(error).__name__}: {error} — {result.totals['ok']:,} finished "
                               f"rows are kept (run {result.run_id}; map_resume runs the rest)")
    wrapped.result = result  # type: ignore[attr-defined]
    return wrapped


def map_resume(target: Any, data: Any = None, prompt: str | Callable[[Any], Any] | None = None, *,
               output: Any = None, retry_failed: bool = True, model: str | None = None, system: str | None = None,
               max_tokens: int | None = None, think: str | int | None = None, effort: str | None = None,
               max_retries: int | None = None, concurrency: int | None = None, wait: bool = True,
               progress: bool = True, journal: bool = True, attach: str | os.PathLike[str] | None = None) -> Any:
    """Finish a run: collect its batches and run the rows that did not finish (and failed ones, with `retry_failed`).

    A run made with `attach=` keeps its document when resumed from its `MapResult`; from a run id with `data=` and
    `prompt=`, pass `attach=` again.

    `target` is a `MapResult` / `MapRun` from this kernel, or — after a restart — a run id or a batch id
    (recorded in `CLAUDE_MAGIC_MAP_DIR`). Pass `data` and `prompt` (and `output`) again so rows that never
    ran can be sent, and so a batch that was not recorded here can be matched to its rows.
    """
    session = _session()
    if isinstance(target, MapRun):
        target = target.result()
    if isinstance(target, MapResult):
        record, outcomes, index = target.record, dict(target.outcomes), target.index
        spec = output_spec(output) if output is not None else target.spec
        known_jobs: dict[str, Job] = dict(getattr(target, "_jobs", {}))
    elif isinstance(target, str):
        spec = output_spec(output) if output is not None else None
        record, outcomes, index, known_jobs = _from_disk(target, data, prompt, spec, session, model=model,
                                                         system=system, max_tokens=max_tokens, think=think,
                                                         effort=effort)
    else:
        raise ConfigurationError("map_resume takes a MapResult, a MapRun, a run id or a batch id")
    settings = _settings(session.settings, model=model or record.model, system=system, max_tokens=max_tokens,
                         think=think, effort=effort, max_retries=max_retries, spec=spec)
    if data is not None and prompt is not None:
        rows = read_rows(data)
        index = rows.index if index is None else index
        shared = _shared(session, session.clients.get(settings), attach)
        rebuilt = build_jobs(render_prompts(prompt, rows), settings,
                             template_prefix(prompt) if isinstance(prompt, str) else "", shared)
        known_jobs.update({job.id: job for job in rebuilt if job.id in record.jobs})
    jobs_of = {job_id: known_jobs.get(job_id) or Job(job_id, None, None, positions)
               for job_id, positions in record.jobs.items()}
    adopt: dict[str, dict[str, Job]] = {}
    for batch_id in record.batch_ids:
        if batch_id in record.collected:
            continue
        waiting = {j: jobs_of[j] for j in record.batch_jobs.get(batch_id, []) if _unfinished(outcomes.get(j), False)}
        if waiting:
            adopt[batch_id] = waiting
            for job_id in waiting:
                outcomes.pop(job_id, None)
    in_batches = {job_id for jobs in adopt.values() for job_id in jobs}
    rerun = [jobs_of[j] for j in record.jobs if j not in in_batches and _unfinished(outcomes.get(j), retry_failed)]
    missing = [job for job in rerun if not job.known]
    if missing:
        rows_missing = sum(len(job.rows) for job in missing)
        raise ConfigurationError(f"{rows_missing:,} rows of run {record.run_id} never got an answer and their "
                                 "prompts are not stored: pass data= and prompt= (as for map) to send them")
    for job in rerun:
        outcomes.pop(job.id, None)
    concurrency = DEFAULT_CONCURRENCY if concurrency is None else concurrency
    return _start(session, settings, record, rerun, outcomes, spec, index, None, concurrency, wait, progress,
                  journal, None, adopt=adopt)


def _unfinished(outcome: Outcome | None, retry_failed: bool) -> bool:
    if outcome is None or outcome.status in ("pending", "canceled"):
        return True
    return retry_failed and outcome.status in ("error", "expired", "invalid")


def _from_disk(key: str, data: Any, prompt: Any, spec: OutputSpec | None, session: Any,
               **options: Any) -> tuple[RunRecord, dict[str, Outcome], Any, dict[str, Job]]:
    try:
        record, outcomes = Journal.load(find_run(key))
        return record, outcomes, None, {}
    except ClaudeMagicError:
        if not key.startswith("msgbatch_") or data is None or prompt is None:
            raise
    # A batch this machine did not record: match its custom_ids to the rows given.
    rows = read_rows(data)
    settings = _settings(session.settings, max_retries=None, spec=spec, **options)
    jobs = build_jobs(render_prompts(prompt, rows), settings, template_prefix(prompt) if isinstance(prompt, str) else "")
    record = RunRecord(run_id=new_run_id(), model=resolve_model(settings.model, settings.aliases), mode="batch",
                       rows=len(rows), kind=rows.kind, labels=_labels(rows),
                       jobs={job.id: job.rows for job in jobs}, batch_ids=[key],
                       batch_jobs={key: [job.id for job in jobs]},
                       schema=spec.name if spec is not None else None, fields=spec.fields if spec is not None else [])
    return record, {}, rows.index, {job.id: job for job in jobs}
