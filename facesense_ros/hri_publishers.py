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
REP-155 (ROS4HRI) output of a node: /humans/faces/tracked, per-face topics, face/gaze on /tf.

Importing this module needs hri_msgs and tf2_msgs (ImportError otherwise: the node then runs
without REP-155 output). One FacePublishers per live track: created when the track starts,
destroyed when the tracker retires it, so that a consumer following /humans/faces/tracked
(libhri) sees exactly the ids whose topics exist.
"""

import secrets
import threading
from typing import Dict, Iterable, List, Optional, Sequence

from facesense_ros import hri_conversions as hc
from facesense_ros.face import Face
from hri_msgs.msg import (Expression, FacialLandmarks, IdsList, NormalizedRegionOfInterest2D,
                          SoftBiometrics)
import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from tf2_msgs.msg import TFMessage

FACES_NS = '/humans/faces'
# libhri subscribes with SystemDefaultsQoS (reliable, volatile): a reliable volatile publisher
# of rclpy's default depth matches it and any best-effort reader.
HRI_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# What tf2_ros's TransformBroadcaster uses (reliable, volatile, depth 100), so that every tf
# listener matches as it would with a broadcaster.
TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
# Bytes of the start-up token of face ids (4 hex digits): distinguishes runs of one node.
ID_TOKEN_BYTES = 2
# Per-face subtopic -> message type, in the order docs/interfaces.md lists them.
SUBTOPICS = {'roi': NormalizedRegionOfInterest2D, 'cropped': Image, 'aligned': Image,
             'landmarks': FacialLandmarks, 'softbiometrics': SoftBiometrics,
             'expression': Expression}


class FacePublishers:
    """The six /humans/faces/<id>/ publishers of one face."""

    def __init__(self, node, face_id: str):
        self.face_id = face_id
        self._node = node
        self._pubs = {name: node.create_publisher(msg_type, f'{FACES_NS}/{face_id}/{name}',
                                                  HRI_QOS)
                      for name, msg_type in SUBTOPICS.items()}

    def publish(self, frame_bgr: np.ndarray, face: Face, header):
        """Publish what the face has; messages nobody subscribes to are not even built."""
        height, width = frame_bgr.shape[:2]
        builders = {
            'roi': lambda: hc.roi(face, header, width, height),
            'cropped': lambda: hc.crop_msg(frame_bgr, face, header),
            'aligned': lambda: hc.crop_msg(frame_bgr, face, header, aligned=True),
            'landmarks': lambda: hc.landmarks(face, header, width, height),
            'softbiometrics': lambda: hc.softbiometrics(face, header),
            'expression': lambda: hc.expression(face, header),
        }
        for name, pub in self._pubs.items():
            if pub.get_subscription_count() == 0:
                continue
            msg = builders[name]()
            if msg is not None:
                pub.publish(msg)

    def take(self) -> list:
        """Return the publishers, which the caller must destroy; this face has none after."""
        pubs, self._pubs = list(self._pubs.values()), {}
        return pubs


class HriPublishers:
    """
    A node's REP-155 output; call :meth:`publish` once per processed frame.

    Face ids are ``<node name>_<token>_<track id>`` (hri_conversions.face_id_prefix). Not
    thread-safe.

    :meth:`publish` runs on the node's worker thread, but a retired face's publishers are
    destroyed on the executor's thread (a guard condition's callback): destroyed from the
    worker, a publisher's QoS event handlers could be destroyed while the executor was adding
    them to its wait set, and rclpy's spin died with ``InvalidHandle: cannot use Destroyable
    because destruction was requested`` (seen once in a 200 fps flood).
    """

    def __init__(self, node, token: Optional[str] = None):
        self._node = node
        self.prefix = hc.face_id_prefix(node.get_fully_qualified_name(),
                                        token or secrets.token_hex(ID_TOKEN_BYTES))
        self._faces: Dict[int, FacePublishers] = {}
        self._tracked_pub = node.create_publisher(IdsList, f'{FACES_NS}/tracked', HRI_QOS)
        self._tf_pub = node.create_publisher(TFMessage, '/tf', TF_QOS)
        # Publishers of retired faces, waiting for the executor's thread to destroy them.
        self._retired: list = []
        self._retired_lock = threading.Lock()
        self._reaper = node.create_guard_condition(self._destroy_retired)

    @property
    def face_ids(self) -> List[str]:
        """Return the ids of the faces whose topics exist now."""
        return [p.face_id for p in self._faces.values()]

    def publish(self, header, frame_bgr: np.ndarray, faces: Sequence[Face],
                alive_ids: Iterable[int]):
        """
        Publish one frame's REP-155 messages with the input ``header``.

        ``faces`` are the frame's (tracked, smoothed) faces; ``alive_ids`` the track ids the
        tracker keeps, including faces missed in this frame but not timed out: they stay in
        /humans/faces/tracked, without per-face messages for this frame. A face's face_<id>
        transform sits at its ``position`` (the node sets it once camera_info arrived: from
        depth, or the monocular estimate); a face without one has no transform.
        """
        alive = set(alive_ids) | {f.track_id for f in faces}
        retired = [self._faces.pop(t).take() for t in list(self._faces) if t not in alive]
        if retired:
            with self._retired_lock:
                self._retired.extend(p for pubs in retired for p in pubs)
            self._reaper.trigger()
        for track_id in sorted(alive - set(self._faces)):
            self._faces[track_id] = FacePublishers(self._node, hc.face_id(self.prefix,
                                                                          track_id))
        self._tracked_pub.publish(hc.ids_list(
            header, [self._faces[t].face_id for t in sorted(self._faces)]))
        for face in faces:
            self._faces[face.track_id].publish(frame_bgr, face, header)
        # No camera_info, no position; no frame_id, no parent for the transform.
        located = [face for face in faces if face.position is not None]
        if (not located or not header.frame_id
                or self._tf_pub.get_subscription_count() == 0):
            return
        self._tf_pub.publish(hc.tf_message(
            t for face in located for t in hc.face_transforms(
                face, header, self._faces[face.track_id].face_id)))

    def _destroy_retired(self):
        with self._retired_lock:
            retired, self._retired = self._retired, []
        for pub in retired:
            self._node.destroy_publisher(pub)

    def destroy(self):
        """Destroy every per-face publisher (the others go with the node); not while spinning."""
        with self._retired_lock:
            self._retired.extend(p for face in self._faces.values() for p in face.take())
        self._faces = {}
        self._destroy_retired()

    def restart(self):
        """
        Destroy every per-face publisher and take a new id token (the node's lifecycle cleanup).

        The next tracker numbers its tracks from the start again: with a new token, a face id
        never names two people.
        """
        self.destroy()
        self.prefix = hc.face_id_prefix(self._node.get_fully_qualified_name(),
                                        secrets.token_hex(ID_TOKEN_BYTES))
