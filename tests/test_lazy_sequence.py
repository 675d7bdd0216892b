import pytest

from scripts.lazy_sequence import LazySequence


class Counting:
    """A compute function that counts its calls."""

    def __init__(self, items):
        self.items = items
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return list(self.items)


def test_lazy_sequence_not_computed_until_read():
    compute = Counting([1, 2, 3])
    sequence = LazySequence(compute)
    assert compute.calls == 0
    assert repr(sequence) == "LazySequence(<not computed>)"


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (len, 3),
        (bool, True),
        (list, ["a", "b", "c"]),
        (lambda s: s[1], "b"),
        (lambda s: s[-1], "c"),
        (lambda s: s[:2], ["a", "b"]),
        (lambda s: "b" in s, True),
        (lambda s: "z" in s, False),
        (lambda s: s.index("c"), 2),
        (lambda s: list(reversed(s)), ["c", "b", "a"]),
    ],
)
def test_lazy_sequence_reads_like_its_list(read, expected):
    compute = Counting("abc")
    assert read(LazySequence(compute)) == expected
    assert compute.calls == 1


def test_lazy_sequence_computed_once():
    compute = Counting([1, 2])
    sequence = LazySequence(compute)
    assert list(sequence) == [1, 2]
    assert len(sequence) == 2
    assert sequence[0] == 1
    assert compute.calls == 1
    assert repr(sequence) == "LazySequence([1, 2])"


def test_lazy_sequence_empty_is_false():
    assert not LazySequence(Counting([]))
