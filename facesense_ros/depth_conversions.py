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
Pure functions from faces and their 3D positions to vision_msgs/Detection3DArray, and back.

The Detection3D convention (docs/interfaces.md, ``faces/detections_3d``):

* ``header`` = the input image's; ``id`` = the Detection2D's (the track id).
* ``bbox.center.position`` = the face's 3D position (its ``position`` attribute, a
  face_geometry.FacePosition: the sellion, metres, camera optical frame);
  ``bbox.center.orientation`` = the head's rotation with a head pose
  (face_geometry.head_pose_quaternion), else identity; ``bbox.size`` = the box's metric width and
  height at that distance and NOMINAL_HEAD_DEPTH_M.
* ``results`` = the Detection2D's hypotheses, same class ids and scores, each ``pose`` in 3D:
  the position above (landmarks: their pixel back-projected at the face's z) and its
  covariance: x, y, z variances on the diagonal (camera axes), orientation variances
  HEAD_POSE_VARIANCE with a head pose, UNKNOWN_ORIENTATION_VARIANCE without.
* Depth and the monocular fallback are told apart by sqrt(cov_zz) / z: exactly
  depth.MONOCULAR_REL_SIGMA (0.15) for the monocular estimate, at most
  depth.MAX_DEPTH_REL_SIGMA (0.05) from depth (:func:`position_source`).
"""

import math
from typing import List, Optional, Sequence, Tuple

from facesense_ros import depth, face_geometry
from facesense_ros.conversions import (DEFAULT_ATTENTION_LIMITS, FACE_CLASS, face_to_detection,
                                       LANDMARK_CLASSES)
from facesense_ros.face import Face
from vision_msgs.msg import Detection3D, Detection3DArray

# Front-to-back length of an adult head (glabella to the back of the skull, 18-20 cm): the
# box's extent along z, behind the face's front.
NOMINAL_HEAD_DEPTH_M = 0.19
# head-pose-estimation-adas-0001's error is about 5-6 degrees (OMZ's documentation): an
# orientation variance of (10 degrees)^2 rad^2 per axis leaves room for its bias.
HEAD_POSE_VARIANCE = math.radians(10.0) ** 2
# Without a head pose the identity orientation is no measurement: a variance that large says
# "unknown" (no axis is constrained).
UNKNOWN_ORIENTATION_VARIANCE = 1e6
# sqrt(cov_zz) / z above this is the monocular estimate, below it depth (the two never meet).
SOURCE_THRESHOLD = (depth.MONOCULAR_REL_SIGMA + depth.MAX_DEPTH_REL_SIGMA) / 2.0


def _covariance(sigma: Sequence[float], head_pose: bool) -> List[float]:
    rotation = HEAD_POSE_VARIANCE if head_pose else UNKNOWN_ORIENTATION_VARIANCE
    diagonal = [s * s for s in sigma] + [rotation] * 3
    cov = [0.0] * 36
    for i, value in enumerate(diagonal):
        cov[i * 7] = float(value)
    return cov


def face_to_detection_3d(face: Face, header, index: int,
                         intrinsics: Tuple[float, float, float, float],
                         attention_limits=DEFAULT_ATTENTION_LIMITS) -> Detection3D:
    """
    Return one face as a Detection3D (see the module doc); ``index`` without tracking.

    Raises ValueError for a face without ``position`` (no position is ever made up).
    """
    position = face.position
    if position is None:
        raise ValueError(f'face {face.track_id if face.track_id is not None else index} has '
                         'no position: set it (depth.FaceLocator) before converting to 3D')
    flat = face_to_detection(face, header, index, attention_limits)
    det = Detection3D(header=header, id=flat.id)
    x, y, z = position.position
    fx, fy, cx, cy = intrinsics
    center = det.bbox.center
    center.position.x, center.position.y, center.position.z = x, y, z
    if face.head_pose is not None:
        # The face hypothesis already carries it (conversions.face_to_detection).
        center.orientation = next(r for r in flat.results
                                  if r.hypothesis.class_id == FACE_CLASS).pose.pose.orientation
    det.bbox.size.x = float(face.width * z / fx)
    det.bbox.size.y = float(face.height * z / fy)
    det.bbox.size.z = NOMINAL_HEAD_DEPTH_M
    covariance = _covariance(position.sigma, face.head_pose is not None)
    for result in flat.results:
        pose = result.pose
        if result.hypothesis.class_id in LANDMARK_CLASSES:
            u, v = pose.pose.position.x, pose.pose.position.y
            pose.pose.position.x = float((u - cx) / fx * z)
            pose.pose.position.y = float((v - cy) / fy * z)
            pose.pose.position.z = float(z)
        else:
            pose.pose.position = center.position
        if result.hypothesis.class_id == FACE_CLASS:
            pose.pose.orientation = center.orientation
        pose.covariance = covariance
    det.results = flat.results
    return det


def faces_to_detections_3d(faces: Sequence[Face], header, intrinsics,
                           attention_limits=DEFAULT_ATTENTION_LIMITS) -> Detection3DArray:
    """Return one frame's faces, each with its ``position``, as a Detection3DArray."""
    msg = Detection3DArray(header=header)
    msg.detections = [face_to_detection_3d(face, header, index, intrinsics, attention_limits)
                      for index, face in enumerate(faces)]
    return msg


def detection_3d_position(det: Detection3D) -> Optional[face_geometry.FacePosition]:
    """
    Decode a Detection3D's face position (the consumer's side), or None without a face result.

    Position and sigmas from the ``face`` hypothesis's pose and covariance diagonal, the source
    from position_source (``depth`` for measured and held alike: the message does not tell
    them apart).
    """
    face = next((r for r in det.results if r.hypothesis.class_id == FACE_CLASS), None)
    if face is None:
        return None
    p, cov = face.pose.pose.position, face.pose.covariance
    return face_geometry.FacePosition(
        position=(p.x, p.y, p.z), sigma=tuple(math.sqrt(cov[i]) for i in (0, 7, 14)),
        source=position_source(det))


def position_source(det: Detection3D) -> Optional[str]:
    """Return 'depth' or 'monocular' from the face pose's covariance, None without a face."""
    face = next((r for r in det.results if r.hypothesis.class_id == FACE_CLASS), None)
    if face is None:
        return None
    z = face.pose.pose.position.z
    relative = math.sqrt(max(face.pose.covariance[14], 0.0)) / z if z > 0 else math.inf
    return depth.SOURCE_MONOCULAR if relative > SOURCE_THRESHOLD else depth.SOURCE_DEPTH
