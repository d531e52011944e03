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

"""The node's counters and /diagnostics contents (stats.py), without ROS."""

import threading

from facesense_ros.stats import diagnostic_report, NodeState, STAGES, Stats
import pytest

ACTIVE = NodeState(lifecycle='active', input_topic='/ns/image_raw',
                   input_reliability='reliable (auto)', model_files=('/m/a.xml', '/m/b.xml'),
                   device='CPU')


def test_totals_and_windows_count_from_many_threads():
    stats = Stats()

    def count():
        for _ in range(1000):
            stats.count('input')
            stats.count('bad')
    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.frame_done(2, {'detect': 0.01})
    seconds, window, totals = stats.take_window()
    assert seconds > 0
    assert totals['input'] == totals['bad'] == window['input'] == window['bad'] == 4000
    assert totals['processed'] == window['processed'] == 1 and window['faces'] == 2
    assert window['detect'] == pytest.approx(0.01)
    # A new window starts empty; totals go on.
    _, window, totals = stats.take_window()
    assert window['input'] == 0 and totals['input'] == 4000


def _report(state, bad_now=0, bad_total=0, processed=0):
    window = {'input': 10, 'processed': processed, 'faces': 3 * processed, 'bad': bad_now,
              **{stage: 0.02 * processed for stage in STAGES}}
    totals = {'input': 50, 'processed': 40, 'dropped': 1, 'bad': bad_total, 'oversized': 0,
              'failed': 0, 'annotated': 7}
    level, message, values = diagnostic_report(2.0, window, totals, state)
    return level, message, dict(values)


def test_message_counts_what_the_values_count():
    level, message, values = _report(ACTIVE, bad_now=10, bad_total=80, processed=4)
    assert level == 'WARN'
    assert message == '10 bad input frames in the last 2.0 s (80 since start)'
    assert values['bad frames this period'] == '10' and values['bad frames'] == '80'
    assert values['input fps'] == '5.00' and values['processed fps'] == '2.00'
    assert values['faces per frame'] == '3.00' and values['latency detect ms'] == '20.0'
    assert values['model files'] == '/m/a.xml, /m/b.xml'


def test_lifecycle_state_is_reported():
    level, message, values = _report(ACTIVE)
    assert (level, message, values['lifecycle state']) == ('OK', 'running', 'active')
    paused = NodeState(lifecycle='active', paused=True)
    assert _report(paused)[1] == 'paused'
    for lifecycle in ('unconfigured', 'inactive', 'finalized'):
        level, message, values = _report(NodeState(lifecycle=lifecycle))
        assert (level, message, values['lifecycle state']) == ('OK', lifecycle, lifecycle)
        assert values['processed fps'] == '0.00' and values['faces per frame'] == '0.00'
    failed = NodeState(failure='model face-detection-0102 not found in /x')
    assert _report(failed)[:2] == ('ERROR', 'unconfigured: model face-detection-0102 not '
                                   'found in /x')
