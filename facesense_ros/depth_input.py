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
The node's 3D side: camera_info, depth/image_raw, the depth buffer, faces/detections_3d.

A node creates one :class:`DepthInput` when it is configured, :meth:`DepthInput.start` and
:meth:`DepthInput.stop` it with activation (the depth subscription lives only while active),
:meth:`DepthInput.close` it at cleanup, and, once per processed frame (on its worker thread),
calls :meth:`DepthInput.locate`, which returns the faces with their ``position`` attribute
set (from depth, or the monocular estimate), then :meth:`DepthInput.publish`; the
subscriptions' callbacks run on the executor. The logic (decoding, matching, measuring,
smoothing) is depth.py's, without ROS; this class wires it and counts for /diagnostics.
"""

import threading
from typing import Dict, List, Optional, Sequence, Tuple

from facesense_ros import depth
from facesense_ros.config import TrackingConfig
from facesense_ros.depth_conversions import faces_to_detections_3d
from facesense_ros.face import Face
from facesense_ros.input_qos import FollowingSubscription, PUBLISHER_CHECK_PERIOD
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from vision_msgs.msg import Detection3DArray

# The depth subscription's queue: a depth frame must not be replaced before the colour frame
# of the same stamp is processed. Its reliability follows the node's `reliability` parameter
# like image_raw's (auto: as the publishers offer): a best-effort reader of a reliable driver
# (RealSense, Orbbec) loses most 640x480 depth frames, which travel as UDP fragments without
# a shared-memory profile (1.2 MB for 32FC1; all of them lost in test_depth_node.py).
DEPTH_QUEUE = depth.DEPTH_BUFFER_SIZE
# Only the newest intrinsics matter; best effort also matches usb_cam's reliable publisher.
CAMERA_INFO_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
# faces/detections_3d: like faces/detections.
DETECTIONS_3D_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# Bad depth tends to repeat every frame: say so at most this often. The frame_id mismatch is
# a set-up mistake: said once a minute, with the fix.
WARN_THROTTLE_SEC = 5.0
REGISTRATION_WARN_SEC = 60.0
REGISTRATION_HELP = (
    'depth must be registered to the colour image (same optical frame and field of view): '
    'RealSense: align_depth.enable:=true and remap depth/image_raw to '
    'aligned_depth_to_color/image_raw; Orbbec: depth_registration:=true; faces keep the '
    'monocular estimate meanwhile')
# /diagnostics keys of the counters, in the order they are listed.
COUNTERS = ('frames with depth', 'frames without matching depth', 'frames without camera_info',
            'depth frames received', 'depth frames refused', 'faces with depth',
            'faces with held depth', 'faces monocular', 'faces without enough valid depth')


class DepthInput:
    """
    See the module doc; ``max_pixels`` is a callable returning max_input_pixels now.

    ``config`` is the node's TrackingConfig (its depth_* fields); ``reliability`` is the node's
    parameter (auto, best_effort, reliable), applied to the depth subscription as to
    image_raw's.
    """

    def __init__(self, node, config: TrackingConfig, max_pixels, reliability: str = 'auto'):
        self._node = node
        self._input = FollowingSubscription(node, Image, 'depth/image_raw', self._on_depth,
                                            DEPTH_QUEUE, reliability)
        self._config = config
        self._max_pixels = max_pixels
        self._buffer = depth.DepthBuffer()
        self._locator = depth.FaceLocator(config)
        self._lock = threading.Lock()
        self._counts: Dict[str, int] = {key: 0 for key in COUNTERS}
        # One reference assignment, read by the worker: (k, (width, height)).
        self._camera_info: Optional[Tuple[Sequence[float], Tuple[int, int]]] = None
        self._camera_info_sub = node.create_subscription(CameraInfo, 'camera_info',
                                                         self._on_camera_info,
                                                         CAMERA_INFO_QOS)
        self._publisher = node.create_publisher(Detection3DArray, 'faces/detections_3d',
                                                DETECTIONS_3D_QOS)
        self._publishers_timer = None
        self._active = False

    def start(self):
        """Activation: subscribe depth/image_raw when ``depth`` is on (executor thread)."""
        if self._active:
            return
        self._active = True
        if self._config.depth:
            self._input.subscribe()
        if self._input.reliability.auto:
            self._publishers_timer = self._node.create_timer(PUBLISHER_CHECK_PERIOD,
                                                             self._check_publishers)

    def stop(self):
        """Deactivation: unsubscribe depth and forget its frames (executor thread)."""
        self._active = False
        if self._publishers_timer is not None:
            self._node.destroy_timer(self._publishers_timer)
            self._publishers_timer = None
        self._input.unsubscribe()
        self._buffer.clear()

    def close(self):
        """Cleanup: stop, then destroy camera_info's subscription and the publisher."""
        self.stop()
        self._node.destroy_subscription(self._camera_info_sub)
        self._node.destroy_publisher(self._publisher)

    def _check_publishers(self):
        # As the node does for image_raw: a depth camera started or replaced later is matched.
        self._input.follow()

    @property
    def topic(self) -> Optional[str]:
        """Return the depth topic's full name, None when depth is off."""
        subscription = self._input.subscription
        return None if subscription is None else subscription.topic_name

    def update(self, config: TrackingConfig):
        """Apply new depth parameters (executor thread): subscribe or unsubscribe depth."""
        if config.depth and self._input.subscription is None and self._active:
            self._input.subscribe()
        elif not config.depth:
            self._input.unsubscribe()
            self._buffer.clear()
        self._config = config

    def _count(self, key: str, n: int = 1):
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + n

    def _on_camera_info(self, msg):
        self._camera_info = (tuple(msg.k), (int(msg.width), int(msg.height)))

    def _on_depth(self, msg):
        self._count('depth frames received')
        config = self._config
        try:
            frame = depth.decode_depth(
                msg.data, msg.encoding, msg.width, msg.height, msg.step,
                is_bigendian=bool(msg.is_bigendian),
                stamp=msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9,
                frame_id=msg.header.frame_id, max_pixels=self._max_pixels(),
                valid_range=(config.depth_min, config.depth_max))
        except depth.DepthError as e:
            self._count('depth frames refused')
            self._count(f'depth refused: {e.reason}')
            self._node.get_logger().warning(f'depth frame skipped: {e}',
                                            throttle_duration_sec=WARN_THROTTLE_SEC)
            return
        self._buffer.add(frame)

    def locate(self, header, frame_size: Tuple[int, int], faces: Sequence[Face],
               stamp: float) -> Tuple[Optional[Tuple[float, float, float, float]], List[Face]]:
        """
        Return (intrinsics, the faces with their ``position``) for a processed frame.

        Without a calibrated camera_info: (None, the faces unchanged): no position is ever
        made up. ``stamp`` is the frame's (seconds; the node's arrival time for unstamped
        frames). Waits up to depth.DEFAULT_DEPTH_WAIT for the depth frame of this stamp when
        it has not arrived while depth is flowing.
        """
        info = self._camera_info
        intrinsics = None if info is None else depth.scaled_intrinsics(info[0], info[1],
                                                                       frame_size)
        config = self._config
        self._locator.update(config)
        matched, reason = None, None
        if config.depth and intrinsics is not None:
            matched = self._buffer.match(stamp, config.depth_sync_tolerance,
                                         wait=depth.DEFAULT_DEPTH_WAIT)
            if matched is None:
                reason = depth.NO_MATCH
        positions, reason = self._locator.locate(faces, intrinsics, matched, reason,
                                                 header.frame_id, frame_size, stamp)
        if positions is None:
            self._count('frames without camera_info')
            return None, list(faces)
        if config.depth:
            if reason is None:
                self._count('frames with depth')
            elif reason == depth.NO_MATCH:
                self._count('frames without matching depth')
            else:
                # Unregistered depth (frame_id, size): counted per colour frame it failed.
                self._count(f'depth refused: {reason}')
            if reason == depth.FRAME_ID:
                self._node.get_logger().warning(
                    f"depth frame_id {matched.frame_id!r} is not the image's "
                    f'{header.frame_id!r}: {REGISTRATION_HELP}',
                    throttle_duration_sec=REGISTRATION_WARN_SEC)
        for position in positions:
            if position.source == depth.SOURCE_DEPTH:
                self._count('faces with depth')
            elif position.source == depth.SOURCE_HELD:
                self._count('faces with held depth')
            else:
                self._count('faces monocular')
            if config.depth and position.reason in (depth.FEW_PIXELS, depth.INCONSISTENT,
                                                    depth.IMPLAUSIBLE, depth.OUTLIER):
                self._count('faces without enough valid depth')
        return intrinsics, [face.with_attributes(position=position)
                            for face, position in zip(faces, positions)]

    @staticmethod
    def message(header, faces: Sequence[Face], intrinsics,
                attention_limits) -> Optional[Detection3DArray]:
        """Return faces/detections_3d of a frame located with intrinsics, else None."""
        if intrinsics is None:
            return None
        return faces_to_detections_3d(faces, header, intrinsics, attention_limits)

    def publish(self, msg: Optional[Detection3DArray]):
        """Publish a :meth:`message` (None: nothing)."""
        if msg is not None:
            self._publisher.publish(msg)

    def diagnostics_values(self) -> Dict[str, str]:
        """Return the counters (and the depth topic) for /diagnostics."""
        with self._lock:
            counts = dict(self._counts)
        topic = self.topic
        values = {'depth': 'on' if topic is not None else 'off'}
        if topic is not None:
            values['depth topic'] = topic
            values['depth reliability'] = self._input.reliability.describe()
        values.update((key, str(value)) for key, value in counts.items())
        return values
