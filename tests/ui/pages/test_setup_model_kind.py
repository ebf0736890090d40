"""The Setup page's "Model" combo (model.kind) and the sqrtn pooling choice."""

from __future__ import annotations

from collections.abc import Callable

from studio.ui.pages.setup import SetupPage


def test_model_kind_defaults_to_auto_and_round_trips(
    setup_page: SetupPage, reloaded: Callable[[SetupPage], SetupPage]
) -> None:
    page = setup_page
    kinds = [page.model_kind.itemText(i) for i in range(page.model_kind.count())]
    assert kinds == ["auto", "embedding", "linear"] and page.config().model.kind == "auto"
    assert "validation" in page.model_kind.toolTip()
    page.model_kind.setCurrentText("linear")
    page.pooling.setCurrentText("sqrtn")
    page.weighting.setCurrentText("idf")
    assert page.is_valid()
    assert page.config().model.kind == "linear" and page.config().model.pooling == "sqrtn"
    assert page.preset.currentText() == "custom"
    other = reloaded(page)
    assert other.model_kind.currentText() == "linear" and other.config() == page.config()


def test_the_seed_preset_trains_the_embedding_model(setup_page: SetupPage) -> None:
    setup_page.preset.setCurrentText("seed")
    assert setup_page.config().model.kind == "embedding"
    setup_page.preset.setCurrentText("default")
    assert setup_page.config().model.kind == "auto"
