"""DiffAugment and ADA: shapes, alpha consistency, fills, and the adaptive probability's direction."""
from __future__ import annotations

import torch

from pokegan.augment import Augmenter
from pokegan.augment.diffaug import color, cutout, geometric, translation


def rgba_batch(b=16, s=32):
    """A batch in model space: an opaque sprite (a box) on transparency (-1 everywhere outside)."""
    x = torch.full((b, 4, s, s), -1.0)
    x[:, :3, 8:24, 10:22] = torch.rand(b, 3, 1, 1) * 2 - 1
    x[:, 3, 8:24, 10:22] = 1.0
    return x


def test_every_op_keeps_shape_and_alpha_consistency():
    torch.manual_seed(0)
    x = rgba_batch()
    aug = Augmenter("flip,color,translation,cutout", p=1.0)
    aug.fill = torch.full((4,), -1.0)
    y = aug(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    alpha = y[:, 3]
    assert set(alpha.unique().tolist()) <= {-1.0, 1.0}               # no half-made edges in alpha
    transparent = alpha == -1.0
    assert (y[:, :3][transparent.unsqueeze(1).expand(-1, 3, -1, -1)] == -1.0).all()  # holes are fully clear


def test_color_changes_rgb_only_and_translation_fills_with_background():
    torch.manual_seed(1)
    x = rgba_batch()
    y = color(x, 1.0)
    assert torch.equal(y[:, 3], x[:, 3]) and not torch.equal(y[:, :3], x[:, :3])
    white = torch.ones(8, 3, 16, 16)
    white[:, :, 4:12, 4:12] = -1.0  # a dark sprite on white
    moved = translation(white, 1.0, fill=torch.ones(3), ratio=0.25)
    assert (moved == -1.0).sum() == (white == -1.0).sum()  # the sprite moved whole (it stays inside)
    assert set(moved.unique().tolist()) == {-1.0, 1.0}       # uncovered pixels became background
    holed = cutout(white, 1.0, fill=torch.ones(3))
    assert (holed == 1.0).sum() > (white == 1.0).sum()


def test_translation_and_cutout_are_identity_at_p_zero():
    x = rgba_batch()
    assert torch.equal(translation(x, 0.0, torch.full((4,), -1.0)), x)
    assert torch.equal(cutout(x, 0.0, torch.full((4,), -1.0)), x)


def test_ada_probability_moves_the_right_way():
    ada = Augmenter("flip,translation", ada_target=0.6, ada_kimg=1.0, ada_interval=4, batch=50)
    assert ada.p == 0.0
    for _ in range(40):                     # D is sure of every real: overfitting -> p rises
        ada.observe(torch.ones(50))
    high = ada.p
    assert high > 0.5
    for _ in range(20):                     # D unsure (signs mixed, mean 0 < 0.6) -> p falls
        ada.observe(torch.tensor([1.0, -1.0] * 25))
    assert ada.p < high
    restored = Augmenter("flip,translation", ada_target=0.6)
    restored.load_state(ada.state())
    assert restored.p == ada.p


def test_geometric_warp_fills_with_background_and_keeps_alpha_premultiplied():
    torch.manual_seed(2)
    white = torch.ones(16, 3, 32, 32)
    assert torch.allclose(geometric(white, 1.0, fill=torch.ones(3)), white)   # what comes in from outside is background
    sprite = white.clone()
    sprite[:, :, 10:22, 12:20] = -1.0  # a dark sprite on white
    warped = geometric(sprite, 1.0, fill=torch.ones(3))
    assert warped.shape == sprite.shape and torch.isfinite(warped).all()
    assert not torch.equal(warped, sprite) and warped.min() >= -1.0 - 1e-5 and warped.max() <= 1.0 + 1e-5
    assert torch.equal(geometric(sprite, 0.0, fill=torch.ones(3)), sprite)  # p = 0: exactly the input
    x = rgba_batch()
    y = geometric(x, 1.0, fill=torch.full((4,), -1.0))
    alpha = y[:, 3]
    assert alpha.min() >= -1.0 - 1e-5 and alpha.max() <= 1.0 + 1e-5
    clear = alpha <= -1.0 + 1e-4
    assert clear.any() and (y[:, :3][clear.unsqueeze(1).expand(-1, 3, -1, -1)] == -1.0).all()  # holes fully clear
    # premultiplied resampling: the box's colour is kept at its soft edges instead of fading to the fill's
    partly = (alpha > -0.9) & (alpha < 0.9)
    assert partly.any()
    colour = x[:, :3, 15, 15].view(-1, 3, 1, 1).expand_as(y[:, :3])
    edge = partly.unsqueeze(1).expand(-1, 3, -1, -1)
    assert torch.allclose(y[:, :3][edge], colour[edge], atol=1e-3)

