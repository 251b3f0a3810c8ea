"""The server's side of learning from the operators: feedback rows, retraining, the model in use.

Feedback is written through the writer in a task of its own (``record`` returns at once and
never raises into the chat). A retraining reads all feedback, trains in a thread
(``chatserver.retraining``), stores the model bytes with its report, uses the model in this
process (``use_model``) and publishes its id on the broker channel ``assistant:model``; every
process listens there and loads the stored model named (a process starting up loads the latest).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from chatserver.assistant import Feedback
from chatserver.broker.base import Broker
from chatserver.retraining import feedback_report, retrain
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter
from responses.devset import Item
from responses.recognize.learned import SituationModel, use_model

__all__ = ["MODEL_CHANNEL", "SituationLearning"]

log = logging.getLogger(__name__)

MODEL_CHANNEL = "assistant:model"


class SituationLearning:
    """Feedback in, retrained models out, and which model this process uses."""

    def __init__(
        self, writer: MessageWriter, broker: Broker, *, clock: Callable[[], float] = time.time
    ) -> None:
        # The dev-set items trained on beside the feedback (None: the whole training split).
        self.base_items: Sequence[Item] | None = None
        self._writer = writer
        self._broker = broker
        self._clock = clock
        self._writes: set[asyncio.Task[Any]] = set()  # feedback on its way to the database
        self._tasks: set[asyncio.Task[Any]] = set()  # reloads
        self._listener: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.model: SituationModel | None = None
        self.model_id: int | None = None

    # --- feedback -----------------------------------------------------------

    def record(self, feedback: Feedback, operator_id: int | None) -> None:
        """Store one operator signal a moment later; returns at once, never raises."""
        try:
            self._spawn(self._store(feedback, operator_id), self._writes)
        except Exception:
            log.exception("could not record situation feedback")

    async def _store(self, feedback: Feedback, operator_id: int | None) -> None:
        try:
            await self._writer.run(
                repo.add_situation_feedback,
                conversation_id=feedback.conversation_id,
                seq=feedback.seq,
                language=feedback.language,
                messages=feedback.messages,
                recognized=feedback.recognized,
                score=feedback.score,
                corrected=feedback.corrected,
                source=feedback.source,
                operator_id=operator_id,
                now=self._clock(),
            )
        except Exception as exc:
            log.warning("lost situation feedback on conversation %s: %r", feedback.conversation_id, exc)

    async def flush(self) -> None:
        """Wait for the feedback still on its way to the database."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    # --- the model in use ---------------------------------------------------

    async def start(self) -> None:
        """Use the latest stored model, and follow the ones other processes train."""
        await self.reload()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._listener = asyncio.create_task(self._listen(ready), name="situation-model-listener")
        await ready

    async def _listen(self, ready: asyncio.Future[None]) -> None:
        try:
            async with self._broker.subscribe(MODEL_CHANNEL, on_message=self._announced):
                ready.set_result(None)
                await asyncio.Event().wait()
        finally:
            if not ready.done():
                ready.set_result(None)

    def _announced(self, payload: str) -> None:
        if payload.strip() != str(self.model_id):
            self._spawn(self.reload(), self._tasks)

    async def reload(self) -> bool:
        """Use the newest stored model if it is not the one in use; True when it changed."""
        try:
            async with self._lock:
                latest = await self._writer.read(repo.latest_situation_model, with_data=False)
                if latest is None or latest.id == self.model_id:
                    return False
                stored = await self._writer.read(repo.latest_situation_model)
                assert stored is not None
                model = await asyncio.to_thread(SituationModel.from_bytes, stored.data)
                self._use(stored.id, model)
                log.info("situation model %d in use", stored.id)
                return True
        except Exception:
            log.exception("could not load the stored situation model; keeping the one in use")
            return False

    def _use(self, model_id: int, model: SituationModel) -> None:
        use_model(model)
        self.model, self.model_id = model, model_id

    async def retrain(self, operator_id: int | None) -> dict[str, Any]:
        """Train on the dev set and the feedback, store it, use it everywhere; the report of it."""
        async with self._lock:
            await self.flush()
            rows = await self._writer.read(repo.list_situation_feedback)
            outcome = await asyncio.to_thread(retrain, rows, self.model, base=self.base_items)
            data = await asyncio.to_thread(outcome.model.to_bytes)
            model_id = await self._writer.run(
                repo.store_situation_model,
                data=data,
                report=outcome.report,
                operator_id=operator_id,
                now=self._clock(),
            )
            self._use(model_id, outcome.model)
        await self._broker.publish(MODEL_CHANNEL, str(model_id))
        return {"id": model_id, **outcome.report}

    async def report(self) -> dict[str, Any]:
        rows = await self._writer.read(repo.list_situation_feedback)
        latest = await self._writer.read(repo.latest_situation_model, with_data=False)
        return feedback_report(rows, latest, self.model_id)

    async def close(self) -> None:
        """Stop following, write the feedback still on its way, and go back to the shipped model."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.flush()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.model is not None:
            use_model(None)
            self.model, self.model_id = None, None

    @staticmethod
    def _spawn(coro: Any, tasks: set[asyncio.Task[Any]]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
