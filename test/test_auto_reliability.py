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
``reliability: auto`` (the default) against publishers in another process, as users run it.

One facesense_node with config/facesense.yaml's defaults. A reliable publisher (as usb_cam,
image_publisher and most drivers are) gets every 640x480 and 1280x720 bgr8 frame answered:
frames that large exceed Fast DDS's 512 KB shared-memory segment and travel as UDP fragments,
which a best-effort subscription loses (docs/interfaces.md, QoS). A best-effort publisher
still matches and is answered, and a reliable one after it gets a reliable subscription again.
The node was started before any publisher existed, so its periodic publisher check is what
follows each change.
"""

from facesense_ros.input_qos import PUBLISHER_CHECK_PERIOD
from facesense_ros.sample_frames import compose_frame
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
import rosutil
from rosutil import Diagnostics, Sender

NS = '/auto_reliability'
# The sizes of the issue: 921,600 and 2,764,800 bytes in bgr8, both over 512 KB.
LARGE_SIZES = ((640, 480), (1280, 720))
FRAMES_PER_SIZE = 8
# Under 512 KB (shared memory even without a profile): a best-effort frame gets through.
SMALL_SIZE = (448, 336)
BEST_EFFORT = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)

tester = rosutil.module_tester('auto_reliability_tester')


@pytest.fixture(scope='module')
def node(model_dir, tester):
    # Only the diagnostics come faster than the default; reliability is the default (auto).
    with rosutil.nodes_running(tester, model_dir, {NS: {'diagnostics_period': 0.5}}) as started:
        yield started[NS]


def _in_effect(tester, reliability):
    """Wait until /diagnostics reports ``reliability`` for the node's input; return the values."""
    values = Diagnostics(tester, NS).wait(
        lambda v: v['input reliability'] == reliability,
        timeout=rosutil.DISCOVERY_TIMEOUT + PUBLISHER_CHECK_PERIOD)
    return values


def _close(tester, sender):
    tester.node.destroy_publisher(sender.publisher)
    tester.node.destroy_subscription(sender.detections.subscription)


def _send_each_once(tester, sender, size, count):
    """Publish ``count`` frames of ``size`` one at a time, never again; return the answered."""
    frame, _ = compose_frame(2, size=size, seed=size[0])
    answered = 0
    for _ in range(count):
        msg = sender.message(frame)
        sender.publisher.publish(msg)
        if tester.spin_until(lambda: sender.answer_to(msg.header) is not None,
                             rosutil.ANSWER_TIMEOUT):
            answered += 1
            assert sender.answer_to(msg.header).detections, f'{size}: no face found'
    return answered


def test_reliable_publisher_gets_every_large_frame_answered(tester, node):
    sender = Sender(tester, NS)
    try:
        assert tester.wait_for_subscribers(sender.publisher), node.output()
        assert _in_effect(tester, 'reliable (auto)')['input topic'] == f'{NS}/image_raw'
        for size in LARGE_SIZES:
            answered = _send_each_once(tester, sender, size, FRAMES_PER_SIZE)
            print(f'\n[auto reliability] {size[0]}x{size[1]} bgr8 from a reliable publisher: '
                  f'{answered} of {FRAMES_PER_SIZE} answered')
            assert answered == FRAMES_PER_SIZE, f'{size}: {answered} of {FRAMES_PER_SIZE}'
    finally:
        _close(tester, sender)


def test_best_effort_publisher_matches_then_reliable_again(tester, node):
    best_effort = Sender(tester, NS, qos=BEST_EFFORT)
    try:
        # A reliable subscription never matches a best-effort writer: this waits for the node
        # to re-create its subscription best-effort.
        assert tester.wait_for_subscribers(best_effort.publisher), node.output()
        _in_effect(tester, 'best_effort (auto)')
        frame, _ = compose_frame(1, size=SMALL_SIZE)
        _, answer = best_effort.send(frame)
        assert answer.detections
    finally:
        _close(tester, best_effort)
    reliable = Sender(tester, NS)
    try:
        assert tester.wait_for_subscribers(reliable.publisher), node.output()
        _in_effect(tester, 'reliable (auto)')
        size = LARGE_SIZES[-1]
        assert _send_each_once(tester, reliable, size, 2) == 2
    finally:
        _close(tester, reliable)
    log = node.output()
    assert 'input reliability reliable (auto) -> best_effort (auto)' in log, log
    assert 'input reliability best_effort (auto) -> reliable (auto)' in log, log
    # Before the switch: our one line, not rclpy's "No messages will be received from it".
    assert 'offering incompatible QoS' not in log, log
    assert 'offers best_effort only; reliability auto re-subscribes' in log, log
