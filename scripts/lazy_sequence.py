"""A sequence computed on first use.

Snakemake's scheduler lists every job still to run on every scheduling pass,
for job selectors that may never look at that list (rules/common.smk,
``list_remaining_jobs_only_when_read``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


class LazySequence(Sequence[T]):
    """The sequence ``compute()`` returns, computed once, when first read."""

    def __init__(self, compute: Callable[[], Sequence[T]]) -> None:
        self._compute: Callable[[], Sequence[T]] | None = compute
        self._items: Sequence[T] = ()

    @property
    def items(self) -> Sequence[T]:
        if self._compute is not None:
            self._items = self._compute()
            self._compute = None
        return self._items

    def __getitem__(self, index):  # type: ignore[override]
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __contains__(self, item: object) -> bool:
        return item in self.items

    def __repr__(self) -> str:
        if self._compute is not None:
            return "LazySequence(<not computed>)"
        return f"LazySequence({self._items!r})"
