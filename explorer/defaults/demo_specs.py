"""The demo models as data: names, architectures, tasks and training budgets.

Kept apart from ``explorer.defaults.demo`` (which trains them, with torch and
transformers) so that listing the registry or checking what is prepared imports
neither.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LENGTH = 64


@dataclass(frozen=True)
class DemoSpec:
    """One demo model: folder name, architecture, task and training budget."""

    name: str
    family: str  # "electra" or "bert"
    description: str
    # 1e-3 made runs swing between 0.77 and 0.89 dev accuracy (the tokenizer trainer's vocabulary order is not
    # reproducible across processes); 5e-4 measured 0.88–0.92 for BERT and stops ELECTRA from diverging.
    lr: float = 5e-4
    task: str = "cola"
    input_format: str | None = None
    seconds: float = 40.0  # expected training time on one idle core; 4x this is a hard stop
    max_length: int = MAX_LENGTH
    epochs: int = 3
    n_train: int = 8000
    layers: int = 3


DEMOS = (
    DemoSpec(
        "demo-electra-cola", "electra",
        "ELECTRA-style, factorised embeddings (64 → 128), 3 layers; trained here on generated Korean CoLA data",
        epochs=4, seconds=50.0,
    ),
    DemoSpec(
        "demo-bert-cola", "bert",
        "BERT-style, embeddings as wide as the hidden size (128), 3 layers; trained here on generated Korean CoLA data",
        epochs=4, seconds=50.0,
    ),
    DemoSpec(
        "demo-bert-wic", "bert",
        "BERT-style, 2 layers; trained here on generated homonym pairs, target marked with [brackets]",
        task="wic", input_format="marked", seconds=50.0, epochs=3, n_train=8000, layers=2,
    ),
    DemoSpec(
        "demo-electra-copa", "electra",
        "ELECTRA-style multiple-choice head, 2 layers; trained here on generated cause/effect pairs",
        task="copa", input_format="connective", seconds=30.0, epochs=2, n_train=4000, layers=2,
    ),
)
