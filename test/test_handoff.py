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

"""The node's newest-frame hand-off (handoff.py) and stop request (stop_signals.py), no ROS."""

import os
import signal
import subprocess
import sys
import textwrap
import threading

from facesense_ros.handoff import CLOSED, LatestSlot, LatestWorker
from facesense_ros.stop_signals import StopSignals

# Bounds a join that should be immediate; only reached when the code under test hangs.
JOIN_TIMEOUT = 10.0


def test_slot_hands_over_the_newest_item_and_reports_replacements():
    slot = LatestSlot()
    assert slot.put(1) is False
    assert slot.put(2) is True
    assert slot.take() == 2
    assert slot.clear() is False
    slot.put(3)
    assert slot.clear() is True
    slot.put(4)
    assert slot.take() == 4


def test_closed_slot_wakes_a_waiting_taker_and_refuses_items():
    slot = LatestSlot()
    taken = []
    taker = threading.Thread(target=lambda: taken.append(slot.take()))
    taker.start()
    slot.close()
    taker.join(JOIN_TIMEOUT)
    assert taken == [CLOSED]
    assert slot.put(5) is False
    assert slot.take() is CLOSED


def test_worker_handles_the_newest_and_stops_after_the_item_in_hand():
    started, release = threading.Event(), threading.Event()
    handled = []

    def handle(item):
        if item == 'first':
            started.set()
            release.wait(JOIN_TIMEOUT)
        handled.append(item)
    worker = LatestWorker('test_worker', handle)
    worker.offer('first')
    assert started.wait(JOIN_TIMEOUT)
    # The worker is busy: 'second' waits, 'third' replaces it.
    assert worker.offer('second') is False
    assert worker.offer('third') is True
    stopper = threading.Thread(target=worker.stop, args=(JOIN_TIMEOUT,))
    stopper.start()
    release.set()
    stopper.join(JOIN_TIMEOUT)
    # 'first' finished; the waiting 'third' was dropped by stop(), nothing handled after.
    assert handled == ['first']
    assert worker.offer('late') is False
    assert worker.stop(JOIN_TIMEOUT) is True
    assert not any(t.name == 'test_worker' for t in threading.enumerate())


def test_worker_threads_do_not_accumulate():
    before = threading.active_count()
    for _ in range(20):
        worker = LatestWorker('cycled', lambda item: None)
        worker.offer(1)
        assert worker.stop(JOIN_TIMEOUT)
    assert threading.active_count() == before


def test_stop_request_wakes_once():
    stop = StopSignals()
    woken = []
    stop.on_request(lambda: woken.append(True))
    assert not stop.requested
    stop.request(signal.SIGTERM)
    stop.request(signal.SIGINT)
    assert stop.requested and stop.signal == signal.SIGTERM and woken == [True]


def test_installed_handlers_turn_both_signals_into_a_request():
    script = textwrap.dedent("""
        import os, signal, sys
        from facesense_ros.stop_signals import StopSignals
        stop = StopSignals.install()
        os.kill(os.getpid(), int(sys.argv[1]))
        print('requested' if stop.requested else 'not requested', stop.signal)
    """)
    for sig in (signal.SIGINT, signal.SIGTERM):
        done = subprocess.run([sys.executable, '-c', script, str(int(sig))],
                              capture_output=True, text=True, env=dict(os.environ),
                              timeout=JOIN_TIMEOUT)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ['requested', str(int(sig))]
