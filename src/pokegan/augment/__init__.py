"""Augmentation: classic real-image augmentation (the reports'), and differentiable/adaptive augmentation
of everything the discriminator sees (DiffAugment, ADA)."""
from pokegan.augment.classic import classic_augment
from pokegan.augment.diffaug import Augmenter

__all__ = ["Augmenter", "classic_augment"]
