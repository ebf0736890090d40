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


def test_keys_the_page_has_no_field_for_survive_a_loaded_setup(setup_page: SetupPage) -> None:
    from studio.config import StudioConfig

    tuned = StudioConfig().with_overrides(
        model={"linear_c": 2.5, "dropout": 0.25}, train={"table_lr": 0.37, "weight_decay": 1e-4}
    )
    setup_page.apply_config(tuned)
    assert setup_page.preset.currentText() == "custom"  # not the default any more
    setup_page.epochs.setValue(7)  # a field edited after loading
    config = setup_page.config()
    assert (config.model.linear_c, config.model.dropout) == (2.5, 0.25)
    assert (config.train.table_lr, config.train.weight_decay, config.train.epochs) == (
        0.37, 1e-4, 7,
    )  # fmt: skip
    setup_page.preset.setCurrentText("seed")  # a preset is the whole setup again
    setup_page.preset.setCurrentText("default")
    assert setup_page.config().model.linear_c == StudioConfig().model.linear_c
    assert setup_page.config().train.table_lr == StudioConfig().train.table_lr
