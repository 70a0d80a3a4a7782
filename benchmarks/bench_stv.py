"""STV count figure (issue 15): the time to count 20,000 ranked ballots for 4 seats among
12 candidates. Target: at most 2 s on this machine.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_stv.py`). Pure: no database.
Prints figures; it asserts nothing, so it never fails on a slow machine.

The ballots are random but seeded, with a realistic structure: candidates belong to
three slates and differ in appeal; each voter leans to one slate and ranks candidates by
appeal plus their slate's pull plus personal noise (a Plackett-Luce draw through Gumbel
noise), and ranks only some of them: most voters 2 to 6, a few all 12, some just one.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.services.elections.count import count_stv

BALLOTS = 20_000
CANDIDATES = 12
SEATS = 4
RUNS = 5
SEED = "bench-stv-2026"

# How many candidates a voter ranks, and how often.
RANKED = {1: 10, 2: 12, 3: 20, 4: 18, 5: 12, 6: 8, 8: 5, 12: 15}


def ballots(rng: random.Random) -> list[tuple[int, ...]]:
    """The seeded electorate's ballots (see the module's docstring)."""
    candidates = list(range(1, CANDIDATES + 1))
    slate = {c: c % 3 for c in candidates}
    appeal = {c: rng.gauss(0, 0.8) for c in candidates}
    lengths, weights = zip(*RANKED.items(), strict=True)
    drawn = []
    for _ in range(BALLOTS):
        leaning = rng.choices((0, 1, 2), weights=(45, 35, 20))[0]
        score = {
            c: appeal[c]
            + (1.5 if slate[c] == leaning else 0.0)
            - math.log(-math.log(rng.random() or 1e-12))
            for c in candidates
        }
        order = sorted(candidates, key=score.__getitem__, reverse=True)
        drawn.append(tuple(order[: rng.choices(lengths, weights=weights)[0]]))
    return drawn


def main() -> None:
    cast = ballots(random.Random(2026))
    print(
        f"{BALLOTS:,} ballots ({len(Counter(cast)):,} distinct rankings), "
        f"{CANDIDATES} candidates, {SEATS} seats"
    )
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        count = count_stv(range(1, CANDIDATES + 1), cast, SEATS, seed=SEED)
        times.append(time.perf_counter() - started)
    print(f"elected {count.elected} in {len(count.rounds)} rounds, quota {count.quota}")
    print(
        f"count time: first {times[0]:.3f} s, median {statistics.median(times):.3f} s, "
        f"best {min(times):.3f} s over {RUNS} runs (target <= 2 s)"
    )


if __name__ == "__main__":
    main()
