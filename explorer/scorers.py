"""What each kind of scorer can do, declared once, and what every scorer answers to.

A registry entry's ``kind`` names its scorer: a transformer checkpoint, the Kiwi
language model (zero-shot CoLA), the Kiwi overlap baseline (BoolQ) or a Kiwi-features
regression fitted on the user's CoLA file. Pages, the
service and the CLI ask ``capabilities(entry)`` what a model can do instead of
testing the kind string, so a new kind of scorer is one row in ``SCORER_KINDS``
and one class implementing ``Scorer``.

Every scorer predicts through the same method (``Scorer.predict``), so every
task and every page takes one path from items to ``Prediction``s:
``TransformerScorer`` (``explorer.tasks.predict``), ``KiwiLM``
(``explorer.kiwi_lm``), ``KiwiOverlap`` (``explorer.kiwi_overlap``) and
``KiwiFeatures`` (``explorer.kiwi_features``).

No torch, pandas or streamlit here: the registry and CLI parsing import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol, Sequence

if TYPE_CHECKING:
    from explorer.registry import ModelEntry
    from explorer.tasks.base import Task
    from explorer.tasks.predict import Prediction

Progress = Callable[[int, int], None]

TRANSFORMER = "transformer"
KIWI_LM = "kiwi-lm"
KIWI_OVERLAP = "kiwi-overlap"
KIWI_FEATURES = "kiwi-features"


@dataclass(frozen=True)
class Capabilities:
    """What a kind of scorer can do.

    Attributes:
        tasks: Task ids it answers; None = the entry's own task (a checkpoint's head decides).
        checkpoint: Loaded from the entry's folder, one copy per device; its ``input_format``
            chooses how items are encoded. False = one shared built-in scorer, cached under its
            kind, whose ``input_format`` only describes what it reads.
        internals: Token grid, attention mask, positions and attention can be shown.
        attributions: Token attributions (integrated gradients and the like) can be computed.
        position_table: Its position-embedding table can be read (some transformer families have
            none; Inside a model says so).
        morpheme_scores: Per-morpheme log-probabilities come with each prediction.
        parameters: A parameter count can be read from its weights.
        tag: The model picker's tag ("zero-shot", "baseline"); "" for none.
        family: Comparison's model family; None = read from the checkpoint's config.
        refusal: Said after the model's name when asked for a task it does not answer.
        fitted: Not a checkpoint, but fitted on data and read from the entry's own file
            (``source``): one scorer per entry, not one per kind.
    """

    tasks: frozenset[str] | None
    checkpoint: bool
    internals: bool
    attributions: bool
    position_table: bool
    morpheme_scores: bool
    parameters: bool
    tag: str = ""
    family: str | None = None
    refusal: str = ""
    fitted: bool = False

    def answers(self, task: str) -> bool:
        """Whether this scorer can be asked for ``task`` (a checkpoint's own task is checked elsewhere)."""
        return self.tasks is None or task in self.tasks


SCORER_KINDS: dict[str, Capabilities] = {
    TRANSFORMER: Capabilities(
        tasks=None, checkpoint=True, internals=True, attributions=True, position_table=True,
        morpheme_scores=False, parameters=True,
    ),
    KIWI_LM: Capabilities(
        tasks=frozenset({"cola"}), checkpoint=False, internals=False, attributions=False, position_table=False,
        morpheme_scores=True, parameters=False, tag="zero-shot", family="kiwi",
        refusal="only scores acceptability (CoLA).",
    ),
    KIWI_OVERLAP: Capabilities(
        tasks=frozenset({"boolq"}), checkpoint=False, internals=False, attributions=False, position_table=False,
        morpheme_scores=False, parameters=False, tag="baseline", family="kiwi",
        refusal="only answers BoolQ.",
    ),
    KIWI_FEATURES: Capabilities(
        tasks=frozenset({"cola"}), checkpoint=False, internals=False, attributions=False, position_table=False,
        morpheme_scores=True, parameters=False, tag="features", family="kiwi",
        refusal="only scores acceptability (CoLA).", fitted=True,
    ),
}


def capabilities(entry: ModelEntry) -> Capabilities:
    """The capabilities of the entry's kind of scorer.

    Raises:
        ValueError: the kind is not one of ``SCORER_KINDS`` (a programming error:
            models.toml cannot set it).
    """
    try:
        return SCORER_KINDS[entry.kind]
    except KeyError:
        raise ValueError(f"{entry.name} has an unknown scorer kind {entry.kind!r}.") from None


class Scorer(Protocol):
    """Anything that answers task items: a loaded checkpoint, the Kiwi LM, the overlap baseline.

    Attributes:
        kind: The ``ModelEntry.kind`` it serves (a key of ``SCORER_KINDS``).
        capabilities: ``SCORER_KINDS[kind]``: which tasks it answers, what else it can show.
    """

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def predict(
        self,
        task: Task,
        items: Sequence[Any],
        input_format: str | None = None,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> list[Prediction]:
        """One ``Prediction`` per item, in order.

        Args:
            task: The task the items belong to (``explorer.tasks.registry.get``).
            items: Items of that task (their labels are ignored).
            input_format: The entry's input format (see each task module); built-in
                scorers read items one fixed way and ignore it.
            batch_size: At most this many inputs per forward pass; None: as many as a token budget holds.
            progress: Called with (done, total).

        Raises:
            ValueError: the scorer does not answer ``task`` (said in words), or
                an item cannot be read (e.g. a BoolQ question longer than the model).
        """
        ...


class OneByOne:
    """The built-in (Kiwi) scorers' ``predict``: refuse a task their kind does not answer, then judge the items
    one at a time. A scorer names itself (``label``) and says how it judges one item (``judge_item``)."""

    capabilities: ClassVar[Capabilities]
    label: ClassVar[str]

    def predict(
        self,
        task: Task,
        items: Sequence[Any],
        input_format: str | None = None,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> list[Prediction]:
        """One ``Prediction`` per item, in order (the ``Scorer`` protocol; no batches, no input formats).

        Raises:
            ValueError: for a task this kind does not answer.
        """
        if not self.capabilities.answers(task.id):
            raise ValueError(f"{task.id} needs a transformer checkpoint; {self.label} {self.capabilities.refusal}")
        return judge_each(items, lambda item: self.judge_item(task, item), progress)

    def judge_item(self, task: Task, item: Any) -> Prediction:
        raise NotImplementedError


def judge_each(items: Sequence[Any], judge: Callable[[Any], Any], progress: Progress | None = None) -> list:
    """``judge(item)`` for every item in order, reporting ``progress(done, total)``: the built-in scorers' loop."""
    out = []
    for done, item in enumerate(items, start=1):
        out.append(judge(item))
        if progress:
            progress(done, len(items))
    return out
