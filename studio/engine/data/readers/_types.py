"""The in-memory result of reading a dataset file, before tokenization."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawDataset:
    """Texts and their labels, as read from one file or folder.

    ``labels[i]`` is a tuple with one label for single-label data and zero or more
    labels for multi-label data. ``lines[i]`` is the 1-based line number (or row
    number for Parquet, file index for folders) that document ``i`` came from, so
    later errors can point back into the file.
    """

    texts: list[str]
    labels: list[tuple[str, ...]]
    lines: list[int]
    path: str
    format: str
    text_column: str | None = None
    label_column: str | None = None
    multi_label: bool = False
    warnings: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_names(self) -> list[str]:
        """Every distinct label, sorted."""
        return sorted({label for labels in self.labels for label in labels})
