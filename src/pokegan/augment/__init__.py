"""Augmentation of real images: classic (the reports' flips, rotations, shifts, zoom) for now."""
from pokegan.augment.classic import classic_augment

__all__ = ["classic_augment"]
