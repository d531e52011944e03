# Copyright 2026 facesense_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Face gallery matching with 10,000 persons: ms per face, candidate vs exact, and reload time.

Synthetic persons: a random direction plus noise per view (views of one person ~0.7 cosine
apart, different persons ~0, like the identities data's 0.52..0.99 and <= 0.19). Queries are
new views of stored persons (known) and new persons (unknown). Run by ``make bench``.
"""

import argparse
import os
from pathlib import Path
import statistics
import tempfile
import time

from facesense_ros import gallery as gm
import numpy as np

# Per-dimension noise of a view around its person's direction: gives ~0.7 between views.
VIEW_NOISE = 0.65


def _views(rng, base, count):
    return gm.normalise(base + VIEW_NOISE * rng.normal(size=(count, gm.EMBEDDING_SIZE)))


def _median_ms(fn, queries):
    times = []
    for query in queries:
        start = time.perf_counter()
        fn(query)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _same(gallery, query):
    """Whether the candidate match is the exact one (same person, same similarity)."""
    found, exact = gallery.match(query), gallery.match(query, exact=True)
    return found.person_id == exact.person_id and abs(found.similarity - exact.similarity) < 1e-5


def main():
    """Build a gallery in a temporary directory and print the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip())
    parser.add_argument('--persons', type=int, default=10000)
    parser.add_argument('--views', type=int, default=gm.MAX_EMBEDDINGS_PER_PERSON)
    parser.add_argument('--queries', type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / 'faces.db'
        bases = rng.normal(size=(args.persons, gm.EMBEDDING_SIZE))
        start = time.perf_counter()
        with gm.Gallery(path) as g:
            for base in bases:
                g.add_person(_views(rng, base, args.views))
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        g = gm.Gallery(path, create=False)
        open_s = time.perf_counter() - start
        picked = rng.integers(0, args.persons, size=args.queries)
        known = [_views(rng, bases[i], 1)[0] for i in picked]
        unknown = [_views(rng, rng.normal(size=gm.EMBEDDING_SIZE), 1)[0]
                   for _ in range(args.queries)]
        for query in known[:10]:
            g.match(query)
        candidate_known = _median_ms(g.match, known)
        candidate_unknown = _median_ms(g.match, unknown)
        exact_known = _median_ms(lambda q: g.match(q, exact=True), known)
        same_known = sum(_same(g, q) for q in known)
        same_unknown = sum(_same(g, q) for q in unknown)
        best_unknown = max(g.match(q, exact=True).similarity for q in unknown)
        right = sum(g.match(q).person_id == g._persons[i] for q, i in zip(known, picked))
        other = gm.Gallery(path, create=False)
        other.add_person(_views(rng, rng.normal(size=gm.EMBEDDING_SIZE), 1))
        start = time.perf_counter()
        g.refresh(force=True)
        reload_ms = (time.perf_counter() - start) * 1e3
        other.close()
        g.close()
        size_mb = os.path.getsize(path) / 1e6
    rows = args.persons * args.views
    print(f'face gallery, {args.persons} persons x {args.views} views ({rows} embeddings, '
          f'{size_mb:.0f} MB file), {args.queries} queries, '
          f'OPENBLAS_NUM_THREADS={os.environ.get("OPENBLAS_NUM_THREADS", "unset")}')
    print(f'  match (candidates), known face:   {candidate_known:.3f} ms p50')
    print(f'  match (candidates), unknown face: {candidate_unknown:.3f} ms p50')
    print(f'  match exact (every view), known:  {exact_known:.3f} ms p50 '
          f'({exact_known / candidate_known:.1f}x candidates)')
    print(f'  candidates == exact: known {same_known}/{args.queries}, unknown '
          f'{same_unknown}/{args.queries} (best unknown similarity {best_unknown:.2f}); '
          f'known face -> its person: {right}/{args.queries}')
    print(f'  reload after an outside change: {reload_ms:.0f} ms; open: {open_s * 1e3:.0f} ms; '
          f'build ({args.persons} add_person): {build_s:.1f} s '
          f'({build_s / args.persons * 1e3:.2f} ms each: what learning a person costs the frame)')


if __name__ == '__main__':
    main()
