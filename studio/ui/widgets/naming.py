"""One naming style for Qt objects: a widget's objectName is the attribute that holds it.

Tests, style sheets and the main window find widgets by objectName; naming them after
their snake_case attribute (``page.dataset_path`` is ``"dataset_path"``) keeps one name
per widget instead of two spellings.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

__all__ = ["name_after_attributes"]


def name_after_attributes(owner: object) -> None:
    """Give each public QObject attribute of ``owner`` its attribute name as objectName.

    Objects that already have a name keep it (a test checks that it is the same name).
    """
    for name, value in vars(owner).items():
        if not name.startswith("_") and isinstance(value, QObject) and not value.objectName():
            value.setObjectName(name)
