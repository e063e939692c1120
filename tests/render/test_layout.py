"""The layered layout of the HTML page's diagram: layers, order, and no recursion."""

from __future__ import annotations

from backprop_cli.render.layout import GAP_ACROSS, layers, place


def test_each_item_is_one_layer_after_its_latest_input() -> None:
    # 0, 1 inputs; 2 = f(0, 1); 3 a constant read only by 4 = f(2, 3)
    inputs = [[], [], [0, 1], [], [2, 3]]
    assert layers(inputs) == [0, 0, 1, 1, 2]  # the constant sits just before its reader


def test_items_of_a_layer_do_not_overlap_and_layers_follow_one_another() -> None:
    inputs = [[], [], [0, 1], [2], [], [3, 4]]
    sizes = [(40.0, 20.0)] * len(inputs)
    centres = place(inputs, sizes, across_x=True)
    assert centres[2].y > centres[0].y == centres[1].y
    assert abs(centres[0].x - centres[1].x) >= 40 + GAP_ACROSS
    left_to_right = place(inputs, sizes, across_x=False)
    assert left_to_right[2].x > left_to_right[0].x  # layers run right


def test_a_long_chain_is_laid_out_without_recursion() -> None:
    inputs = [[]] + [[item] for item in range(5000)]
    centres = place(inputs, [(10.0, 10.0)] * len(inputs), across_x=True)
    assert centres[-1].y > centres[0].y and len({c.x for c in centres}) == 1
