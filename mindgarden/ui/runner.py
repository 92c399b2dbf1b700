"""The single inference thread: model loads and expansions run there, results reach the GUI in batches."""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from mindgarden.core.errors import MindGardenError
from mindgarden.engine.growth import Grower, PreparedExpansion
from mindgarden.engine.types import BranchDelta, Engine, ExpansionFinished
from mindgarden.ui.model_source import ModelSource, SwitchOutcome

log = logging.getLogger(__name__)

# About 30 repaints per second: smooth to the eye, and cheap however fast tokens arrive.
FLUSH_INTERVAL_MS = 33
THREAD_NAME = "mindgarden-inference"


@dataclass(frozen=True)
class _Done:
    """Queue item that the worker puts after the engine's last event."""


@dataclass(frozen=True)
class _Failed:
    """Queue item that the worker puts when the engine raised."""

    error: BaseException


class InferenceRunner(QObject):
    """Owns the one inference worker thread and the timer that drains its events.

    The worker only talks to the engine. Every tree change happens on the GUI thread:
    the flush timer takes the queued events every ``FLUSH_INTERVAL_MS``, merges the text
    deltas of each branch and hands them to ``Grower.apply``.
    """

    model_loaded = Signal(object)
    """Emitted with the engine after a ``load_model`` job on the worker succeeded."""
    model_failed = Signal(object)
    """Emitted with the exception after a load on the worker failed, or a switch raised a bug."""
    model_switched = Signal(object)
    """Emitted with the SwitchOutcome of a ``switch_model`` job."""
    load_progress = Signal(float)
    """Emitted from the worker with the fraction of the model loaded, from 0 to 1; queued to the GUI thread."""
    restoring = Signal(str)
    """Emitted from the worker with the previous model's name when it is loaded again after a failed switch."""
    expansion_progress = Signal(float)
    """Emitted after each flush with the tokens per second so far."""
    expansion_finished = Signal(object)
    """Emitted with the PreparedExpansion once its last event has been applied."""
    expansion_failed = Signal(object, object)
    """Emitted with the PreparedExpansion and the exception that ended it."""
    _load_done = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        self._load_done.connect(self._on_load_done)
        self._loading: concurrent.futures.Future | None = None
        self._load_cancel = threading.Event()

        self._grower: Grower | None = None
        self._prepared: PreparedExpansion | None = None
        self._future: concurrent.futures.Future | None = None
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._cancel = threading.Event()
        self._delta_count = 0
        self._started = 0.0
        self._closed = False

    # -- state --------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether an expansion is running or its events are still being applied."""
        return self._prepared is not None

    @property
    def loading(self) -> bool:
        return self._loading is not None and not self._loading.done()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    # -- model loading ------------------------------------------------------------

    def load_model(self, loader: Callable[[], Engine]) -> None:
        """Run ``loader`` on the worker. ``model_loaded`` or ``model_failed`` reports the outcome."""
        future = self._executor.submit(loader)
        self._loading = future
        # The callback runs on the worker thread, so a queued signal carries it to the GUI thread.
        future.add_done_callback(self._load_done.emit)

    def switch_model(self, new: ModelSource, previous_engine: Engine | None,
                     previous: ModelSource | None) -> None:
        """Close ``previous_engine`` and load ``new`` on the worker; ``model_switched`` reports the outcome.

        When ``new`` fails to load or the user cancels, the worker loads ``previous`` again.
        Pass ``previous_engine`` None to keep the current engine open, for example one the
        window does not own.
        """
        self._load_cancel = threading.Event()
        future = self._executor.submit(self._switch, new, previous_engine, previous, self._load_cancel)
        self._loading = future
        future.add_done_callback(self._load_done.emit)

    def cancel_load(self) -> None:
        """Ask the running model load to stop at its next progress report; the previous model is loaded again."""
        if self.loading and not self._load_cancel.is_set():
            log.info("Cancelling the model load")
            self._load_cancel.set()

    def _switch(self, new: ModelSource, previous_engine: Engine | None, previous: ModelSource | None,
                cancel: threading.Event) -> SwitchOutcome:
        # Runs on the worker thread: it may touch engines and emit signals, never a widget.
        def report(fraction: float) -> bool:
            self.load_progress.emit(fraction)
            return not cancel.is_set()

        if previous_engine is not None:
            log.info("Closing %s before loading %s", previous_engine.info.name, new.name)
            previous_engine.close()
        try:
            return SwitchOutcome(new, new.open(report))
        except MindGardenError as error:
            log.warning("Loading %s failed: %s", new.name, error)
            failure = error
        if previous is None or previous_engine is None or self._closed:
            # Nothing to reload, or the window is closing and needs no model.
            return SwitchOutcome(new, None, failure=failure)

        self.restoring.emit(previous.name)
        try:
            # The previous model comes back even when Cancel is still set, so the callback ignores it.
            restored = previous.open(lambda fraction: self.load_progress.emit(fraction) or True)
        except MindGardenError as error:
            log.error("Loading the previous model %s again failed: %s", previous.name, error)
            return SwitchOutcome(new, None, failure=failure, restore_error=error)
        log.info("Loaded the previous model %s again after %s failed", previous.name, new.name)
        return SwitchOutcome(previous, restored, failure=failure)

    def _on_load_done(self, future: concurrent.futures.Future) -> None:
        error = future.exception()
        if self._closed:
            return
        if error is not None:
            self.model_failed.emit(error)
        elif isinstance(future.result(), SwitchOutcome):
            self.model_switched.emit(future.result())
        else:
            self.model_loaded.emit(future.result())

    # -- expansions ---------------------------------------------------------------

    def start(self, grower: Grower, prepared: PreparedExpansion) -> None:
        """Stream ``prepared`` on the worker and apply its events on the GUI thread."""
        if self.busy:
            raise RuntimeError("An expansion is already running.")
        self._grower = grower
        self._prepared = prepared
        self._events = queue.SimpleQueue()
        self._cancel = threading.Event()
        self._delta_count = 0
        self._started = time.perf_counter()
        self._future = self._executor.submit(self._produce, grower, prepared, self._cancel, self._events)
        self._timer.start()

    def stop(self) -> None:
        """Ask the running expansion to end after its current decode step. Partial text stays."""
        if self.busy and not self._cancel.is_set():
            log.info("Stopping the expansion of node %s", self._prepared.parent_id)
            self._cancel.set()

    @staticmethod
    def _produce(grower: Grower, prepared: PreparedExpansion, cancel: threading.Event,
                 events: queue.SimpleQueue) -> None:
        # Runs on the worker thread: it may touch the engine, never the tree or a widget.
        try:
            for event in grower.events(prepared, cancel):
                events.put(event)
        except Exception as error:  # handed to the GUI thread, which reports or raises it
            log.debug("Expansion of node %s raised on the worker", prepared.parent_id, exc_info=True)
            events.put(_Failed(error))
            return
        events.put(_Done())

    def flush(self) -> None:
        """Apply every queued event, one merged text delta per branch in each run of deltas."""
        if not self.busy:
            return
        grower, prepared = self._grower, self._prepared
        pending: dict[int, str] = {}
        outcome: _Done | _Failed | None = None
        try:
            while True:
                try:
                    item = self._events.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, BranchDelta):
                    pending[item.index] = pending.get(item.index, "") + item.text
                    self._delta_count += 1
                    continue
                self._apply_deltas(pending)
                if isinstance(item, (_Done, _Failed)):
                    outcome = item
                    break
                grower.apply(prepared, item)
            self._apply_deltas(pending)
        except MindGardenError as error:
            # Saving failed (disk full, locked database): stop streaming into a tree we cannot save.
            log.error("Applying events of the expansion of node %s failed: %s", prepared.parent_id, error)
            self._cancel.set()
            self._wait_for_worker(timeout=5.0)
            grower.fail(prepared, error)
            self._end()
            self.expansion_failed.emit(prepared, error)
            return

        self.expansion_progress.emit(self._tokens_per_second(prepared))
        if isinstance(outcome, _Failed):
            grower.fail(prepared, outcome.error)
            self._end()
            self.expansion_failed.emit(prepared, outcome.error)
        elif isinstance(outcome, _Done):
            self._end()
            log.info("Expanded node %s into %d branches in %.1f s", prepared.parent_id,
                     len(prepared.child_ids), time.perf_counter() - self._started)
            self.expansion_finished.emit(prepared)

    def _apply_deltas(self, pending: dict[int, str]) -> None:
        for index, text in pending.items():
            self._grower.apply(self._prepared, BranchDelta(index, text))
        pending.clear()

    def _tokens_per_second(self, prepared: PreparedExpansion) -> float:
        stats: ExpansionFinished | None = prepared.stats
        if stats is not None:
            return stats.tokens_per_second
        # NOTE: while streaming, one text delta counts as one token. The engine holds back
        # incomplete UTF-8 sequences, so this is an estimate until ExpansionFinished arrives.
        elapsed = time.perf_counter() - self._started
        return self._delta_count / elapsed if elapsed > 0 else 0.0

    def _end(self) -> None:
        self._timer.stop()
        self._grower = None
        self._prepared = None
        self._future = None

    def _wait_for_worker(self, timeout: float) -> bool:
        future = self._future
        if future is None:
            return True
        done, _ = concurrent.futures.wait([future], timeout=timeout)
        return bool(done)

    # -- shutdown -----------------------------------------------------------------

    def shutdown(self, engine: Engine | None = None, timeout: float = 5.0) -> None:
        """Cancel a running expansion, apply what it produced, close ``engine`` and end the thread.

        Waits up to ``timeout`` seconds for the worker to stop after the cancel. A worker
        that is still busy then is left to finish on its own, and the engine stays open.
        """
        if self._closed:
            return
        self._closed = True
        finished = True
        if self.busy:
            self._cancel.set()
            finished = self._wait_for_worker(timeout)
            if finished:
                self.flush()
            else:
                log.warning("The inference worker did not stop within %.0f s of the cancel", timeout)
                self._end()
        self._timer.stop()
        if self._loading is not None and not self._loading.done():
            log.info("Waiting for the model load to finish before closing")
            self._load_cancel.set()
            finished = bool(concurrent.futures.wait([self._loading], timeout=timeout)[0]) and finished
        if finished:
            for engine_to_close in self._engines_to_close(engine):
                self._executor.submit(engine_to_close.close)
        self._executor.shutdown(wait=finished, cancel_futures=not finished)
        log.info("Inference worker shut down")

    def _engines_to_close(self, engine: Engine | None) -> list[Engine]:
        # A load that finished after the window closed never reached it, so close that engine here.
        engines = [engine] if engine is not None else []
        loading = self._loading
        if loading is not None and loading.done() and loading.exception() is None:
            loaded = loading.result()
            if isinstance(loaded, SwitchOutcome):
                loaded = loaded.engine
            if loaded is not None and loaded is not engine:
                engines.append(loaded)
        return engines
