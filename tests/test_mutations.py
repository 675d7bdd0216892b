"""The mutation list of tests/mutate.py stays applicable: each piece it breaks
exists exactly once, and each test it runs exists."""

from __future__ import annotations

import ast

import pytest

from mutate import MUTATIONS, ROOT, Mutation


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_each_mutation_breaks_one_existing_piece(mutation: Mutation):
    assert (ROOT / mutation.path).read_text().count(mutation.old) == 1
    assert mutation.old != mutation.new


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_each_mutation_runs_a_test_that_exists(mutation: Mutation):
    path, name = mutation.test.split("::")
    tree = ast.parse((ROOT / path).read_text())
    assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_mutation_names_are_unique():
    assert len({m.name for m in MUTATIONS}) == len(MUTATIONS)
