"""What every part of pokegan stands on: errors that teach, atomic files and the cache, PNGs and sheets, pixel
operations, the 18 type names. Only the pixel diversity
measure imports torch, when it is called."""
