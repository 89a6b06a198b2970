"""The soft edge: a keyed sprite's blended rim un-mixed into partial transparency; and fragments counted on the
visible body so faint pixels neither join pieces nor float alone."""
from __future__ import annotations

import numpy as np

from pokegan.core.pixels import key_background, on_background
from pokegan.metrics.sprite_shape import measure
from pokegan.steps.fragments import remove_fragments
from pokegan.steps.soft_edge import soft_edge

WHITE, BLACK = (255, 255, 255), (0, 0, 0)


def _drawn_on(bg: tuple[int, int, int]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A 16x16 sprite as a network trained on `bg` draws it: a dark outline ring around an orange body with a
    white eye, and outside the outline a one-pixel rim that is 30% outline, 70% background."""
    outline = (30, 20, 60) if bg == WHITE else (230, 240, 200)
    img = np.zeros((16, 16, 3), np.float32) + bg
    img[3:13, 3:13] = np.array(outline) * 0.3 + np.array(bg) * 0.7   # the blended rim
    img[4:12, 4:12] = outline
    img[5:11, 5:11] = (230, 120, 40)                                   # the body
    img[7, 7] = (255, 255, 255)                                        # a white eye inside the outline
    return img.round().astype(np.uint8), outline


def test_the_blended_rim_becomes_the_outline_colour_fading_out_and_looks_the_same_on_the_background():
    for bg in (WHITE, BLACK):
        drawn, outline = _drawn_on(bg)
        keyed = key_background(drawn, bg, 32)
        assert (keyed[3, 3:13, 3] == 255).all()                        # keyed alone, the rim stays opaque
        soft = soft_edge(keyed, 2, bg)
        rim = soft[3, 4:12]
        assert (np.abs(rim[:, 3].astype(int) - round(0.3 * 255)) <= 2).all()      # alpha 0.3
        assert (np.abs(rim[:, :3].astype(int) - outline) <= 3).all()              # in the outline's colour
        assert np.array_equal(soft[4:12, 4:12], keyed[4:12, 4:12])                # outline, body, eye: untouched
        assert np.abs(on_background(soft, bg).astype(int) - drawn).max() <= 1     # on its background: as drawn
        shows = "dark_edge_share" if bg == WHITE else "near_white_edge_share"    # the outline is the edge now
        assert measure(soft[None])[shows] == 1.0 and measure(keyed[None])[shows] == 0.0
        assert np.array_equal(soft_edge(keyed, 0, bg), keyed) and np.array_equal(soft_edge(keyed, 2, None), keyed)


def test_a_pale_edge_without_an_outline_fades_and_a_second_ring_is_reached_only_through_the_first():
    img = np.full((12, 12, 3), 255, np.uint8)
    img[2:10, 2:10] = (220, 220, 220)        # a pale square, nothing deeper anywhere
    img[5:7, 5:7] = (20, 20, 20)             # a dark core two rings in
    keyed = key_background(img, WHITE, 32)
    one, two = soft_edge(keyed, 1, WHITE), soft_edge(keyed, 2, WHITE)
    assert one[2, 5, 3] < 128 and one[3, 5, 3] == 255                   # one ring: only the outer pixels soften
    assert two[3, 5, 3] < 255 and two[4, 5, 3] == 255                   # two rings: the next, no further
    assert np.abs(on_background(two, WHITE).astype(int) - img).max() <= 1
    assert np.array_equal(two[5:7, 5:7], keyed[5:7, 5:7])


def test_fragments_are_counted_on_the_visible_body_and_faint_pixels_go_with_their_piece():
    a = np.zeros((16, 16, 4), np.uint8)
    a[2:12, 2:10] = (200, 60, 40, 255)         # the body, 80 pixels
    a[2:4, 13:15] = (40, 40, 200, 255)         # a 4-pixel fleck ...
    a[3, 10:13] = (40, 40, 200, 60)            # ... joined to the body only by faint pixels
    a[14, 14] = (10, 10, 10, 50)               # a faint pixel on its own
    out = remove_fragments(a, 24)
    assert (out[2:4, 13:15, 3] == 0).all() and out[14, 14, 3] == 0            # fleck and floating faint pixel gone
    assert out[3, 10, 3] == 60 and (out[3, 11:13, 3] == 0).all()              # the faint pixel beside the body stays
    assert np.array_equal(out[2:12, 2:10], a[2:12, 2:10])
    binary = a.copy()
    binary[binary[..., 3] < 128] = 0
    assert np.array_equal(remove_fragments(binary, 4), binary)                # pieces of 4 or more: all stay
    assert np.array_equal(remove_fragments(binary[:, :11], 24), binary[:, :11])   # one piece: nothing to remove
