"""A trained generator as a sprite maker: loading one (a run, a checkpoint or a shipped model), latents from a
seed (torch's rule or the portable one), the type sampler, the one sprite pipeline, the request limits, and the
files `generate` writes."""
