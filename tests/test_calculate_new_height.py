import pytest

from scripts.imageops import calculate_new_height


@pytest.mark.parametrize(
    ("orig_width", "orig_height", "new_width", "expected"),
    [
        (5184, 3456, 4000, 2667),
        (5184, 3456, 2500, 1667),
        (5184, 3456, 1928, 1286),
        (1000, 500, 500, 250),
        (1920, 1080, 50, 29),
        (100, 100, 100, 100),
        (3, 1, 1, 1),
        (5000, 1, 50, 1),
        (1, 5000, 1, 5000),
        (10, 20, 40, 80),
        (3, 2, 2, 2),
    ],
)
def test_calculate_new_height_various_scenarios(orig_width, orig_height, new_width, expected):
    assert calculate_new_height(orig_width, orig_height, new_width) == expected


@pytest.mark.parametrize("orig_width", [0, -100])
def test_calculate_new_height_with_invalid_width_raises_error(orig_width):
    with pytest.raises(ValueError, match="orig_width"):
        calculate_new_height(orig_width, 3456, 4000)


@pytest.mark.parametrize(("orig_height", "new_width"), [(0, 10), (-1, 10), (10, 0), (10, -100)])
def test_calculate_new_height_with_invalid_height_or_target_raises_error(orig_height, new_width):
    with pytest.raises(ValueError, match="must be a positive number"):
        calculate_new_height(100, orig_height, new_width)


def test_calculate_new_height_is_exact_for_huge_sizes():
    # Float division would round this one wrong.
    assert calculate_new_height(3, 10**18 + 1, 3) == 10**18 + 1
