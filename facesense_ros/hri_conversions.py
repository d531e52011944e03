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
Pure functions from Face results to REP-155 (ROS4HRI) messages: hri_msgs, the crops, /tf.

No node is needed: each function takes a Face (and the frame, header, camera intrinsics it
needs) and returns a message. docs/interfaces.md, section REP-155, documents every field.
"""

import math
from typing import Iterable, Optional, Sequence, Tuple

import cv2
from facesense_ros import face_geometry
from facesense_ros.conversions import bgr_to_image_msg
from facesense_ros.face import Face
from geometry_msgs.msg import TransformStamped
from hri_msgs.msg import (Expression, FacialLandmarks, IdsList, NormalizedPointOfInterest2D,
                          NormalizedRegionOfInterest2D, SoftBiometrics)
import numpy as np
from tf2_msgs.msg import TFMessage

# Our emotion classes (face.EMOTION_LABELS order) -> hri_msgs/Expression's names.
EXPRESSION_NAMES = {'neutral': Expression.NEUTRAL, 'happy': Expression.HAPPY,
                    'sad': Expression.SAD, 'surprise': Expression.SURPRISED,
                    'anger': Expression.ANGRY}
# Angles on Russell's circumplex of affect (Russell 1980, "A circumplex model of affect",
# J. Pers. Soc. Psychol. 39(6):1161-1178, Table 3, direct circular scaling of the words
# "happy", "sad", "astonished", "angry"): valence = cos, arousal = sin. Neutral is the
# circumplex's center (no affect). The published valence and arousal of each expression are
# those of its most probable class.
CIRCUMPLEX_DEGREES = {'happy': 7.8, 'sad': 207.5, 'surprise': 69.8, 'anger': 99.0}
VALENCE_AROUSAL = {label: (math.cos(math.radians(a)), math.sin(math.radians(a)))
                   for label, a in CIRCUMPLEX_DEGREES.items()}
VALENCE_AROUSAL['neutral'] = (0.0, 0.0)
# face.LANDMARK_NAMES order -> FacialLandmarks index (the pupils stand for the eye centers).
LANDMARK_INDICES = (FacialLandmarks.RIGHT_PUPIL, FacialLandmarks.LEFT_PUPIL,
                    FacialLandmarks.NOSE, FacialLandmarks.MOUTH_OUTER_RIGHT,
                    FacialLandmarks.MOUTH_OUTER_LEFT)
LANDMARK_COUNT = 70
# landmarks-regression-retail-0009 gives no per-point confidence: its five points carry the
# face's detector score (> 0, the face is there), every other point c = 0 (not detected).
# age-gender-recognition-retail-0013 gives no age uncertainty: a computed age carries this.
AGE_CONFIDENCE = 1.0
FACE_FRAME_PREFIX = 'face_'
GAZE_FRAME_PREFIX = 'gaze_'
# REP-155's gaze_<id> frame in its face_<id> frame: the same origin, z along the face's x (the
# head's direction stands for the gaze, as REP-155 says when gaze is not estimated), x to the
# person's right (-y), y down (-z): the optical-frame convention.
GAZE_IN_FACE_QUATERNION = (-0.5, 0.5, -0.5, 0.5)
Intrinsics = Tuple[float, float, float, float]


def face_id_prefix(node_name: str, token: str) -> str:
    """
    Return the prefix of a node's face ids: its fully qualified name and a start-up token.

    ``/left/facesense`` and ``3fa2`` give ``left_facesense_3fa2``: two nodes of one ROS graph
    never share a fully qualified name, and the token differs between runs of one node, so no
    two faces of a robot share an id, even across restarts.
    """
    return f'{node_name.strip("/").replace("/", "_")}_{token}'


def face_id(prefix: str, track_id: int) -> str:
    """Return the REP-155 face id ``<prefix>_<track_id>``, e.g. ``left_facesense_3fa2_12``."""
    return f'{prefix}_{track_id}'


def ids_list(header, ids: Iterable[str]) -> IdsList:
    """Return the /humans/faces/tracked message."""
    return IdsList(header=header, ids=list(ids))


def _unit(value: float, size: int) -> float:
    return min(max(value / size, 0.0), 1.0)


def roi(face: Face, header, width: int, height: int) -> NormalizedRegionOfInterest2D:
    """Return the face box in 0..1 of the image's width and height, c = detector score."""
    return NormalizedRegionOfInterest2D(
        header=header, xmin=_unit(face.x_min, width), ymin=_unit(face.y_min, height),
        xmax=_unit(face.x_max, width), ymax=_unit(face.y_max, height), c=float(face.score))


def crop(frame_bgr: np.ndarray, face: Face, aligned: bool = False,
         size: int = face_geometry.CROP_SIZE) -> Optional[np.ndarray]:
    """
    Return the ``size`` x ``size`` BGR crop of the face: scaled, centered, 0-padded (REP-155).

    ``aligned``: rotated so that the eyes are level, or None without landmarks.
    """
    if aligned and face.landmarks is None:
        return None
    angle = face_geometry.eye_angle(face.landmarks) if aligned else 0.0
    matrix = face_geometry.crop_matrix(face.box, size, angle)
    return cv2.warpAffine(frame_bgr, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def crop_msg(frame_bgr: np.ndarray, face: Face, header, aligned: bool = False):
    """Return the crop as a bgr8 sensor_msgs/Image with ``header``, or None (see crop)."""
    image = crop(frame_bgr, face, aligned)
    return None if image is None else bgr_to_image_msg(image, header)


def landmarks(face: Face, header, width: int, height: int) -> Optional[FacialLandmarks]:
    """Return our five points at their FacialLandmarks indices, or None without landmarks."""
    if face.landmarks is None:
        return None
    points = [NormalizedPointOfInterest2D() for _ in range(LANDMARK_COUNT)]
    # A detector score of exactly 0 would read as "not detected": keep c > 0.
    confidence = max(float(face.score), 1e-3)
    for index, (x, y) in zip(LANDMARK_INDICES, face.landmarks):
        points[index] = NormalizedPointOfInterest2D(x=_unit(x, width), y=_unit(y, height),
                                                    c=confidence)
    return FacialLandmarks(header=header, landmarks=points, height=height, width=width)


def softbiometrics(face: Face, header) -> Optional[SoftBiometrics]:
    """Return age (years) and gender with confidences, or None when neither was computed."""
    if face.age is None and face.gender is None:
        return None
    msg = SoftBiometrics(header=header, gender=SoftBiometrics.UNDEFINED)
    if face.age is not None:
        msg.age = int(min(round(face.age), 255))
        msg.age_confidence = AGE_CONFIDENCE
    if face.gender is not None:
        msg.gender = (SoftBiometrics.FEMALE if face.gender_label == 'female'
                      else SoftBiometrics.MALE)
        msg.gender_confidence = float(face.gender_score)
    return msg


def expression(face: Face, header) -> Optional[Expression]:
    """Return the most probable expression with its valence, arousal, probability, or None."""
    if face.emotion is None:
        return None
    label = face.emotion_label
    valence, arousal = VALENCE_AROUSAL[label]
    return Expression(header=header, expression=EXPRESSION_NAMES[label], valence=valence,
                      arousal=arousal, confidence=float(face.emotion_score))


def intrinsics_from_k(k: Sequence[float]) -> Optional[Intrinsics]:
    """Return (fx, fy, cx, cy) of a CameraInfo.k, or None when uncalibrated (fx or fy 0)."""
    fx, fy, cx, cy = float(k[0]), float(k[4]), float(k[2]), float(k[5])
    if not (fx > 0 and fy > 0 and all(math.isfinite(v) for v in (fx, fy, cx, cy))):
        return None
    return (fx, fy, cx, cy)


def face_transform(face: Face, header, child_frame: str,
                   intrinsics: Optional[Intrinsics] = None) -> TransformStamped:
    """
    Return the face_<id> transform: parent = header.frame_id, REP-155's face frame.

    Its origin is the face's ``position`` attribute (the node sets it: from depth when there
    is one) or, without, face_geometry's monocular estimate through ``intrinsics``.
    """
    if face.position is not None:
        position = face.position.position
    else:
        position = face_geometry.face_position(face.box, face.landmarks, face.head_pose,
                                               intrinsics)
    qx, qy, qz, qw = face_geometry.face_quaternion(face.head_pose)
    msg = TransformStamped(header=header, child_frame_id=child_frame)
    t = msg.transform.translation
    t.x, t.y, t.z = (float(v) for v in position)
    r = msg.transform.rotation
    r.x, r.y, r.z, r.w = qx, qy, qz, qw
    return msg


def gaze_transform(header, face_frame: str, gaze_frame: str) -> TransformStamped:
    """Return the gaze_<id> transform: parent face_<id>, stamp of ``header``."""
    msg = TransformStamped(child_frame_id=gaze_frame)
    msg.header.stamp = header.stamp
    msg.header.frame_id = face_frame
    r = msg.transform.rotation
    r.x, r.y, r.z, r.w = GAZE_IN_FACE_QUATERNION
    return msg


def face_transforms(face: Face, header, face_id: str, intrinsics: Optional[Intrinsics] = None
                    ) -> Tuple[TransformStamped, TransformStamped]:
    """Return the face_<id> and gaze_<id> transforms of one face (origin: face_transform)."""
    face_frame = FACE_FRAME_PREFIX + face_id
    return (face_transform(face, header, face_frame, intrinsics),
            gaze_transform(header, face_frame, GAZE_FRAME_PREFIX + face_id))


def tf_message(transforms: Iterable[TransformStamped]) -> TFMessage:
    """Return the /tf message carrying ``transforms``."""
    return TFMessage(transforms=list(transforms))
