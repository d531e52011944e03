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
The node's frame counters and the contents of its /diagnostics status, without ROS.

``Stats`` counts frames (totals since start, and per-period sums that ``take_window`` hands
over and resets); ``diagnostic_report`` turns one period into the status level, message and
key/value pairs the node publishes. Tested in test/test_stats.py.
"""

from dataclasses import dataclass
import threading
import time
from typing import Dict, List, Tuple

STAGES = ('convert', 'detect', 'tracking', 'attributes', 'identity', 'publish')
TOTALS = ('input', 'processed', 'dropped', 'bad', 'oversized', 'failed', 'annotated')


class Stats:
    """Counters and per-window sums for /diagnostics; every method is thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self.totals = {key: 0 for key in TOTALS}
        self._window_start = time.monotonic()
        self._window = self._empty_window()

    @staticmethod
    def _empty_window():
        return {'input': 0, 'processed': 0, 'faces': 0, 'bad': 0,
                **{stage: 0.0 for stage in STAGES}}

    def count(self, key: str, n: int = 1):
        """Add ``n`` to a total (and its window sum when there is one)."""
        with self._lock:
            self.totals[key] += n
            if key in self._window:
                self._window[key] += n

    def frame_done(self, faces: int, stage_seconds: Dict[str, float]):
        """Record one processed frame."""
        with self._lock:
            self.totals['processed'] += 1
            self._window['processed'] += 1
            self._window['faces'] += faces
            for stage in STAGES:
                self._window[stage] += stage_seconds.get(stage, 0.0)

    def take_window(self):
        """Return (seconds, window sums, totals) and start a new window."""
        with self._lock:
            now = time.monotonic()
            seconds = max(now - self._window_start, 1e-9)
            window, self._window = self._window, self._empty_window()
            self._window_start = now
            return seconds, window, dict(self.totals)


@dataclass(frozen=True)
class NodeState:
    """What /diagnostics says about the node besides its counters."""

    lifecycle: str = 'unconfigured'
    paused: bool = False
    input_topic: str = ''
    input_reliability: str = ''
    model_files: Tuple[str, ...] = ()
    device: str = ''
    # The last configuration failure (one line), while unconfigured because of it.
    failure: str = ''


def diagnostic_report(seconds: float, window: Dict, totals: Dict,
                      state: NodeState) -> Tuple[str, str, List[Tuple[str, str]]]:
    """
    Return (level name: OK, WARN or ERROR; message; [(key, value)]) for one period.

    The message counts the same things as the values it quotes: the bad frames of this period
    (``bad frames this period``) and since start (``bad frames``).
    """
    processed = window['processed']
    values = [
        ('lifecycle state', state.lifecycle),
        ('input fps', f'{window["input"] / seconds:.2f}'),
        ('processed fps', f'{processed / seconds:.2f}'),
        ('dropped frames', str(totals['dropped'])),
        ('bad frames', str(totals['bad'])),
        ('bad frames this period', str(window['bad'])),
        ('oversized frames', str(totals['oversized'])),
        ('failed frames', str(totals['failed'])),
        ('processed frames', str(totals['processed'])),
        ('annotated frames', str(totals['annotated'])),
        ('faces per frame', f'{window["faces"] / processed:.2f}' if processed else '0.00'),
        ('paused', str(state.paused).lower()),
        ('input topic', state.input_topic),
        ('input reliability', state.input_reliability),
        ('model files', ', '.join(state.model_files)),
        ('device', state.device),
    ]
    for stage in STAGES:
        mean_ms = window[stage] / processed * 1000.0 if processed else 0.0
        values.append((f'latency {stage} ms', f'{mean_ms:.1f}'))
    if state.failure:
        return 'ERROR', f'{state.lifecycle}: {state.failure}', values
    if window['bad']:
        return 'WARN', (f'{window["bad"]} bad input frames in the last {seconds:.1f} s '
                        f'({totals["bad"]} since start)'), values
    if state.lifecycle != 'active':
        return 'OK', state.lifecycle, values
    return 'OK', 'paused' if state.paused else 'running', values
