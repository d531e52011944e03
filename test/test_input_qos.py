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
facesense_ros.input_qos: the rule of ``reliability: auto``, and Humble's path through real DDS.

Humble's rclpy has no BEST_AVAILABLE, so there ``InputReliability`` asks for the policy it
computes from ``get_publishers_info_by_topic`` (``best_available=False``). That path is run here
on this distro's real rclpy and Fast DDS, against publishers in another process (image_source),
with the same calls facesense_node makes.
"""

import cv2
from facesense_ros.input_qos import CHOICES, HAS_BEST_AVAILABLE, InputReliability
from facesense_ros.input_qos import offered_reliability
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
import rosutil
from sensor_msgs.msg import Image

RELIABLE, BEST_EFFORT = ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT
# What each image_source sends. 1280x720 bgr8 (2.7 MB) is far over Fast DDS's 512 KB
# shared-memory segment, so it travels as UDP fragments: every one must arrive reliably.
# A best-effort reader may lose every such frame (docs/interfaces.md, QoS): a CI run lost all 10
# on a loaded machine. 320x240 (230 KB) fits in one segment, so matching shows in frames received.
FRAME_SIZES = {'reliable': (1280, 720), 'best_effort': (320, 240)}
FRAMES = 10
# Slow enough that the reader never needs more than its queue.
SEND_FPS = 5.0


def test_rule_is_rmw_best_available_for_subscriptions():
    assert offered_reliability([RELIABLE, RELIABLE]) == RELIABLE
    assert offered_reliability([RELIABLE, BEST_EFFORT]) == BEST_EFFORT
    assert offered_reliability([BEST_EFFORT]) == BEST_EFFORT
    # No publisher: reliable, as rmw_dds_common resolves BEST_AVAILABLE.
    assert offered_reliability([]) == RELIABLE


@pytest.mark.parametrize('best_available', [True, False])
def test_auto_requests_best_available_where_it_exists(best_available):
    reliability = InputReliability('auto', best_available=best_available)
    requested = reliability.request([BEST_EFFORT])
    if best_available:
        assert requested == ReliabilityPolicy.BEST_AVAILABLE
    else:
        assert requested == BEST_EFFORT
    assert reliability.in_effect == BEST_EFFORT
    assert reliability.describe() == 'best_effort (auto)'
    assert not reliability.outdated([BEST_EFFORT, RELIABLE])
    assert reliability.outdated([RELIABLE])
    reliability.request([RELIABLE])
    assert reliability.describe() == 'reliable (auto)'
    assert not reliability.outdated([])


@pytest.mark.parametrize('choice, policy', [('reliable', RELIABLE), ('best_effort', BEST_EFFORT)])
def test_explicit_choices_never_follow_the_publishers(choice, policy):
    reliability = InputReliability(choice, best_available=True)
    assert reliability.request([BEST_EFFORT if policy == RELIABLE else RELIABLE]) == policy
    assert not reliability.outdated([BEST_EFFORT])
    assert not reliability.outdated([RELIABLE])
    assert reliability.describe() == choice


def test_unknown_choice_refused():
    with pytest.raises(ValueError, match='reliability must be one of'):
        InputReliability('sometimes')


def test_best_available_detected_on_this_distro():
    # Jazzy and Kilted (the two legs of make test) have it; Humble's rclpy 3.x has not.
    assert HAS_BEST_AVAILABLE


def _offered(tester, topic):
    """Return what facesense_node reads: the reliability each publisher of ``topic`` offers."""
    return [info.qos_profile.reliability
            for info in tester.node.get_publishers_info_by_topic(topic)]


def test_humble_path_follows_publishers_of_another_process(tmp_path):
    """
    Without BEST_AVAILABLE: reliable for a reliable image_source, then best effort for another.

    Every 1280x720 frame of the reliable one arrives. When a best-effort image_source replaces
    it, the subscription is outdated (what the node's periodic check asks), and the re-made one
    matches the new publisher and receives its (smaller) frames.
    """
    topic = '/humble_path/image_raw'
    tester = rosutil.RosTester('humble_path')
    reliability = InputReliability('auto', best_available=False)
    subscription = None
    try:
        for offered in ('reliable', 'best_effort'):
            width, height = FRAME_SIZES[offered]
            image = tmp_path / f'{offered}.png'
            cv2.imwrite(str(image), np.random.default_rng(1).integers(
                0, 256, (height, width, 3), np.uint8))
            source = rosutil.start(
                'image_source', namespace='/humble_path',
                params={'source': image, 'fps': SEND_FPS, 'max_frames': FRAMES,
                        'reliability': offered, 'wait_for_subscribers': 1})
            try:
                assert tester.wait_for_publishers(topic), source.output()
                if subscription is not None:
                    assert reliability.outdated(_offered(tester, topic))
                    tester.node.destroy_subscription(subscription)
                inbox = []
                qos = QoSProfile(depth=FRAMES, reliability=reliability.request(
                    _offered(tester, topic)))
                assert qos.reliability == CHOICES[offered]
                subscription = tester.node.create_subscription(Image, topic, inbox.append, qos)
                assert tester.spin_until(lambda: not source.running(),
                                         rosutil.DISCOVERY_TIMEOUT + FRAMES / SEND_FPS + 10.0)
                tester.spin_until(lambda: len(inbox) >= FRAMES, 2.0)
            finally:
                assert source.stop() == 0, source.output()
            assert all(len(m.data) == width * height * 3 for m in inbox)
            if offered == 'reliable':
                assert len(inbox) == FRAMES, f'{len(inbox)} of {FRAMES} frames'
                assert not reliability.outdated(_offered(tester, topic))
            else:
                assert inbox, 'the best-effort publisher was never matched'
            assert tester.spin_until(lambda: tester.node.count_publishers(topic) == 0,
                                     rosutil.DISCOVERY_TIMEOUT)
    finally:
        tester.close()
