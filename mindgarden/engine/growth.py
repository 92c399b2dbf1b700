"""Expansions of a session's nodes: plan to requests, engine events to tree changes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.personas import Persona, resolve_personas
from mindgarden.core.prompting import expansion_messages
from mindgarden.core.sampling import ExpansionPlan
from mindgarden.core.store import Session
from mindgarden.core.tree import Node
from mindgarden.engine.types import (
    FINISH_ERROR,
    BranchDelta,
    BranchFinished,
    BranchRequest,
    Engine,
    EngineEvent,
    ExpansionFinished,
    ExpansionStarted,
)

log = logging.getLogger(__name__)

PARTIAL_SAVE_SECONDS = 1.0
MIN_NEW_TOKENS = 4


@dataclass
class PreparedExpansion:
    """An expansion ready to run: its parent, the new child nodes and one request per child."""

    parent_id: str
    child_ids: list[str]
    requests: list[BranchRequest]
    plan: ExpansionPlan
    stats: ExpansionFinished | None = None
    finished_ids: set[str] = field(default_factory=set)
    started_at: float = field(default_factory=time.perf_counter)
    last_save: float = field(default_factory=time.perf_counter)

    @property
    def done(self) -> bool:
        return len(self.finished_ids) == len(self.child_ids)


class Grower:
    """Grows a session's tree with an engine.

    ``prepare`` and ``apply`` change the tree, so call them on the thread that owns the
    session (the GUI thread). ``events`` only talks to the engine and may run on a worker.
    """

    def __init__(self, session: Session, engine: Engine, personas: dict[str, Persona]) -> None:
        self.session = session
        self.engine = engine
        self.personas = personas

    @property
    def tree(self):
        return self.session.tree

    def prepare(self, node_id: str, plan: ExpansionPlan) -> PreparedExpansion:
        """Validate the plan and add one empty, incomplete child per branch."""
        plan.validate()
        parent = self.tree.node(node_id)
        if not parent.complete:
            raise InvalidInputError("This branch is still growing: wait for it to finish before expanding it.")
        chosen = {persona.name: persona for persona in resolve_personas(plan.personas, self.personas)}
        info = self.engine.info

        child_ids: list[str] = []
        requests: list[BranchRequest] = []
        for spec in plan.branch_specs():
            persona = chosen[spec.persona]
            messages = tuple(expansion_messages(self.tree, node_id, persona))
            child = self.tree.add_child(
                node_id,
                persona=persona.name,
                sampler=spec.sampler.to_dict(),
                seed=spec.seed,
                model_name=info.name,
                model_sha256=info.sha256,
            )
            child_ids.append(child.id)
            requests.append(BranchRequest(
                messages=messages,
                sampler=spec.sampler,
                seed=spec.seed,
                max_new_tokens=plan.max_new_tokens,
                min_new_tokens=min(MIN_NEW_TOKENS, plan.max_new_tokens),
                tag=child.id,
            ))
        log.info("Expanding node %s into %d branches (personas %s, temperatures %s)",
                 node_id, plan.branches, ",".join(plan.personas), ",".join(map(str, plan.temperatures)))
        return PreparedExpansion(node_id, child_ids, requests, plan)

    def events(self, prepared: PreparedExpansion, cancel: threading.Event | None = None) -> Iterator[EngineEvent]:
        return self.engine.expand(prepared.requests, cancel)

    def apply(self, prepared: PreparedExpansion, event: EngineEvent) -> None:
        """Apply one engine event to the tree; a finished branch is committed at once."""
        if isinstance(event, BranchDelta):
            self.tree.append_text(prepared.child_ids[event.index], event.text)
            now = time.perf_counter()
            if now - prepared.last_save >= PARTIAL_SAVE_SECONDS:
                self.session.flush()
                prepared.last_save = now
        elif isinstance(event, BranchFinished):
            result = event.result
            child_id = prepared.child_ids[result.index]
            self.tree.update(
                child_id,
                text=result.text,
                finish_reason=result.finish_reason,
                token_count=result.token_count,
                seconds=round(result.seconds, 3),
                uncertainty=result.mean_entropy,
                max_entropy=result.max_entropy,
                mean_logprob=result.mean_logprob,
                reasoning=result.reasoning,
            )
            prepared.finished_ids.add(child_id)
        elif isinstance(event, ExpansionFinished):
            prepared.stats = event
        elif isinstance(event, ExpansionStarted):
            log.debug("Expansion of %s: %d prompt tokens, %d evaluated", prepared.parent_id,
                      event.prompt_tokens, event.evaluated_prompt_tokens)

    def fail(self, prepared: PreparedExpansion, error: BaseException) -> None:
        """Mark branches that never finished as failed, keeping their partial text."""
        log.error("Expansion of node %s failed: %s", prepared.parent_id, error)
        for child_id in prepared.child_ids:
            if child_id in self.tree and child_id not in prepared.finished_ids:
                node = self.tree.node(child_id)
                self.tree.update(child_id, text=node.text.strip(), finish_reason=FINISH_ERROR)
                prepared.finished_ids.add(child_id)

    def grow(self, node_id: str, plan: ExpansionPlan, cancel: threading.Event | None = None) -> list[Node]:
        """Expand one node synchronously; returns the new children."""
        prepared = self.prepare(node_id, plan)
        try:
            for event in self.events(prepared, cancel):
                self.apply(prepared, event)
        except Exception as error:
            self.fail(prepared, error)
            raise
        return [self.tree.node(child_id) for child_id in prepared.child_ids]
