"""Sprite data: fetch the package, prepare datasets, read the dataset file.

    from pokegan.data import load_dataset
    d = load_dataset("gen5-64.data")   # d.images: uint8 (N, H, W, 4) RGBA; d.labels: N dicts
"""
from pokegan.data.dataset import BACKGROUNDS, Dataset, composite_uint8, load_dataset, save_dataset

__all__ = ["BACKGROUNDS", "Dataset", "composite_uint8", "load_dataset", "save_dataset"]
