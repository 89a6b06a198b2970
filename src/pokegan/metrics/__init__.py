"""Evaluation metrics: FID, KID, precision/recall and novelty, on the standard FID Inception features.

The Inception network is for evaluation only: nothing in `pokegan.training`, `pokegan.models` or
`pokegan.augment` imports this package (a test checks), so no model is ever trained against it.
"""
