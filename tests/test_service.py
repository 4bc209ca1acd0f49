from explorer.registry import ModelEntry
from explorer.service import ModelRun, agreement_table
from explorer.tasks.cola import AcceptabilityResult


def _run(name: str, probs: list[float], error: str | None = None) -> ModelRun:
    results = [AcceptabilityResult(f"s{i}", p, int(p >= 0.5)) for i, p in enumerate(probs)]
    return ModelRun(ModelEntry(name=name, source=name), [] if error else results, error)


def test_agreement_majority_split_and_failed_models_left_out():
    runs = [_run("a", [0.9, 0.2, 0.6]), _run("b", [0.8, 0.7, 0.1]), _run("c", [0.7, 0.1, 0.9]), _run("d", [0.5], error="broken")]
    table = agreement_table(["s0", "s1", "s2"], runs)
    assert list(table.columns) == ["sentence", "P(acceptable) · a", "P(acceptable) · b", "P(acceptable) · c", "verdict", "agreement", "notes"]
    assert list(table["verdict"]) == ["acceptable", "unacceptable", "acceptable"]
    assert list(table["agreement"]) == [1.0, 2 / 3, 2 / 3]


def test_a_tie_is_a_split_not_a_verdict():
    table = agreement_table(["s0"], [_run("a", [0.9]), _run("b", [0.1])])
    assert table.loc[0, "verdict"] == "split" and table.loc[0, "agreement"] == 0.5
