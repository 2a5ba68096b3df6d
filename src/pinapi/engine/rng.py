"""Seeded randomness for the engine: one derivation rule, no global state.

Every draw in the engine comes from a ``numpy.random.Generator`` built here from the run's seed
plus integer keys naming what it is for (the hour, the stream). Keying by the hour, not by the
position in a loop, is what makes simulating [a, c) in one call give the same facts as [a, b)
followed by [b, c): an hour's draws do not depend on where the run started.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_MASK64 = (1 << 64) - 1


def generator(seed: int, *keys: int) -> np.random.Generator:
    """A PCG64 generator for ``seed`` and the stream named by ``keys`` (non-negative ints)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & _MASK64, *keys])))


def hash_unit(ids: npt.NDArray[np.int64], seed: int, salt: int) -> npt.NDArray[np.float64]:
    """A uniform [0, 1) value per id, stable for (id, seed, salt) whatever the array order.

    Per-entity traits (a pin's quality, a video's length) must not change when other entities
    are added, so they are hashed from the id (splitmix64 finaliser) instead of drawn in order.
    """
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    mix = np.uint64(((seed * 0x9E3779B97F4A7C15) ^ (salt * 0xBF58476D1CE4E5B9)) & _MASK64)
    x = x ^ mix
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
