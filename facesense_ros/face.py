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

"""The result for one face: data only, validated on construction, no drawing or ROS."""

from dataclasses import dataclass, replace
import math
from typing import Optional, Tuple

from .identity import Identity

GENDER_LABELS = ('female', 'male')
# The order of emotions-recognition-retail-0003's `prob_emotion` output.
EMOTION_LABELS = ('neutral', 'happy', 'sad', 'surprise', 'anger')
# Probabilities come from softmax in FP16/INT8 models; allow their rounding when checking sums.
PROBABILITY_SUM_TOLERANCE = 0.02
# landmarks-regression-retail-0009's five points, in its output order. "right" is the person's
# right: for a face looking at the camera, the point on the image's left.
LANDMARK_NAMES = ('right_eye', 'left_eye', 'nose_tip', 'right_mouth_corner', 'left_mouth_corner')
HEAD_POSE_ANGLES = ('yaw', 'pitch', 'roll')


def attention_score(head_pose, yaw_limit: float, pitch_limit: float) -> Optional[float]:
    """
    Return how frontal a head pose is, in (0, 1]; None without a head pose.

    With r = max(|yaw| / yaw_limit, |pitch| / pitch_limit) (0 for a face looking straight at
    the camera, 1 on a limit) the score is 1 / (1 + r**2): 1 when frontal, 0.5 exactly on a
    limit, 0.2 at twice a limit. So "looking at the camera" is score >= 0.5. Roll (a tilted
    head) does not change where the face looks.
    """
    if head_pose is None:
        return None
    yaw, pitch = head_pose[0], head_pose[1]
    r = max(abs(yaw) / yaw_limit, abs(pitch) / pitch_limit)
    return 1.0 / (1.0 + r * r)


# attention_score at which a face counts as looking at the camera: on a yaw or pitch limit.
LOOKING_SCORE = 0.5


def _matmul(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3))
                 for i in range(3))


def head_rotation(yaw: float, pitch: float, roll: float):
    """
    Return the head's rotation in the camera optical frame (x right, y down, z forward), 3x3.

    OMZ's convention (its interactive_face_detection demo draws the axes with this matrix):
    R = Rz(roll) * Ry(-yaw) * Rx(pitch), angles in degrees, each a right-handed rotation about
    the camera axis. It maps head-frame vectors into the camera frame; the head frame of a face
    looking straight at the camera is the camera frame itself (x towards the person's left, y
    down, z out of the back of the head: the face looks along -z). So positive yaw turns the
    face towards the image's right, positive pitch down, positive roll tilts it clockwise as
    seen in the image.
    """
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    rx = ((1.0, 0.0, 0.0), (0.0, math.cos(p), -math.sin(p)), (0.0, math.sin(p), math.cos(p)))
    ry = ((math.cos(-y), 0.0, math.sin(-y)), (0.0, 1.0, 0.0), (-math.sin(-y), 0.0, math.cos(-y)))
    rz = ((math.cos(r), -math.sin(r), 0.0), (math.sin(r), math.cos(r), 0.0), (0.0, 0.0, 1.0))
    return _matmul(rz, _matmul(ry, rx))


def head_pose_quaternion(yaw: float, pitch: float, roll: float) -> Tuple[float, ...]:
    """Return head_rotation as a unit quaternion (x, y, z, w), w >= 0 (geometry_msgs order)."""
    m = head_rotation(yaw, pitch, roll)
    # Shepperd's method: divide by the largest of the four candidates (never near zero).
    trace = m[0][0] + m[1][1] + m[2][2]
    candidates = (trace, m[0][0], m[1][1], m[2][2])
    largest = max(range(4), key=candidates.__getitem__)
    if largest == 0:
        w = math.sqrt(1.0 + trace) / 2.0
        q = ((m[2][1] - m[1][2]) / (4 * w), (m[0][2] - m[2][0]) / (4 * w),
             (m[1][0] - m[0][1]) / (4 * w), w)
    elif largest == 1:
        x = math.sqrt(1.0 + 2 * m[0][0] - trace) / 2.0
        q = (x, (m[0][1] + m[1][0]) / (4 * x), (m[0][2] + m[2][0]) / (4 * x),
             (m[2][1] - m[1][2]) / (4 * x))
    elif largest == 2:
        y = math.sqrt(1.0 + 2 * m[1][1] - trace) / 2.0
        q = ((m[0][1] + m[1][0]) / (4 * y), y, (m[1][2] + m[2][1]) / (4 * y),
             (m[0][2] - m[2][0]) / (4 * y))
    else:
        z = math.sqrt(1.0 + 2 * m[2][2] - trace) / 2.0
        q = ((m[0][2] + m[2][0]) / (4 * z), (m[1][2] + m[2][1]) / (4 * z), z,
             (m[1][0] - m[0][1]) / (4 * z))
    return tuple(-v for v in q) if q[3] < 0 else q


def head_pose_from_quaternion(x: float, y: float, z: float, w: float) -> Tuple[float, ...]:
    """Return (yaw, pitch, roll) degrees of a head_pose_quaternion (|yaw| < 90)."""
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    # R = Rz(roll) Ry(beta) Rx(pitch) with beta = -yaw: the z-y-x Tait-Bryan decomposition.
    r20 = 2.0 * (x * z - w * y)
    r21 = 2.0 * (y * z + w * x)
    r22 = 1.0 - 2.0 * (x * x + y * y)
    r10 = 2.0 * (x * y + w * z)
    r00 = 1.0 - 2.0 * (y * y + z * z)
    beta = math.asin(max(-1.0, min(1.0, -r20)))
    return (math.degrees(-beta), math.degrees(math.atan2(r21, r22)),
            math.degrees(math.atan2(r10, r00)))


def _check_probabilities(name, values, labels):
    if values is None:
        return
    if len(values) != len(labels):
        raise ValueError(f'{name} needs {len(labels)} probabilities {labels}, got {len(values)}')
    if any(not (0.0 <= v <= 1.0) or math.isnan(v) for v in values):
        raise ValueError(f'{name} probabilities must be in [0, 1], got {tuple(values)}')
    if abs(sum(values) - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise ValueError(f'{name} probabilities must sum to 1, got {sum(values):.4f}')


@dataclass(frozen=True)
class Face:
    """
    One detected face in frame pixels, with the attributes that were computed.

    Box corners are floats in pixels of the input frame, clamped to it
    (``0 <= x_min < x_max <= width``). An attribute is ``None`` when its model is off or the face
    was too small for it: never a guess.
    """

    x_min: float
    y_min: float
    x_max: float
    y_max: float
    score: float
    age: Optional[float] = None
    gender: Optional[Tuple[float, float]] = None
    emotion: Optional[Tuple[float, float, float, float, float]] = None
    track_id: Optional[int] = None
    # (yaw, pitch, roll) in degrees, OMZ head-pose-estimation-adas-0001's convention.
    head_pose: Optional[Tuple[float, float, float]] = None
    # Five (x, y) points in frame pixels, in LANDMARK_NAMES order.
    landmarks: Optional[Tuple[Tuple[float, float], ...]] = None
    # Who the face's track is (identity.py): gallery person id, name, confidence.
    identity: Optional[Identity] = None

    def __post_init__(self):
        """Reject impossible values so that a bad result never reaches a consumer."""
        coords = (self.x_min, self.y_min, self.x_max, self.y_max)
        if any(math.isnan(c) or math.isinf(c) for c in coords):
            raise ValueError(f'face box must be finite, got {coords}')
        if self.x_max <= self.x_min or self.y_max <= self.y_min:
            raise ValueError(f'face box must have positive size, got {coords}')
        if not (0.0 <= self.score <= 1.0):
            raise ValueError(f'face score must be in [0, 1], got {self.score}')
        if self.age is not None and not (0.0 <= self.age <= 150.0):
            raise ValueError(f'age must be in [0, 150] years, got {self.age}')
        if self.gender is not None:
            object.__setattr__(self, 'gender', tuple(float(v) for v in self.gender))
        if self.emotion is not None:
            object.__setattr__(self, 'emotion', tuple(float(v) for v in self.emotion))
        _check_probabilities('gender', self.gender, GENDER_LABELS)
        _check_probabilities('emotion', self.emotion, EMOTION_LABELS)
        if self.head_pose is not None:
            angles = tuple(float(v) for v in self.head_pose)
            if len(angles) != len(HEAD_POSE_ANGLES) or any(
                    not math.isfinite(a) or abs(a) > 180.0 for a in angles):
                raise ValueError(f'head_pose must be (yaw, pitch, roll) finite degrees in '
                                 f'[-180, 180], got {self.head_pose}')
            object.__setattr__(self, 'head_pose', angles)
        if self.landmarks is not None:
            points = tuple((float(p[0]), float(p[1])) for p in self.landmarks
                           if len(p) == 2)
            if len(points) != len(LANDMARK_NAMES) or len(points) != len(self.landmarks) or any(
                    not (math.isfinite(x) and math.isfinite(y)) for x, y in points):
                raise ValueError(f'landmarks must be {len(LANDMARK_NAMES)} finite (x, y) points '
                                 f'{LANDMARK_NAMES}, got {self.landmarks}')
            object.__setattr__(self, 'landmarks', points)
        if self.identity is not None and not isinstance(self.identity, Identity):
            raise ValueError(f'identity must be an identity.Identity, got {self.identity!r}')
        if self.track_id is not None and self.track_id < 0:
            raise ValueError(f'track_id must be >= 0, got {self.track_id}')

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.y_max - self.y_min

    @property
    def center(self) -> Tuple[float, float]:
        """Return the box center as (x, y) pixels."""
        return ((self.x_min + self.x_max) / 2.0, (self.y_min + self.y_max) / 2.0)

    @property
    def box(self) -> Tuple[float, float, float, float]:
        """Return the corners (x_min, y_min, x_max, y_max) in pixels."""
        return (self.x_min, self.y_min, self.x_max, self.y_max)

    @property
    def emotion_label(self) -> Optional[str]:
        """Most probable emotion, or None when emotion was not computed."""
        if self.emotion is None:
            return None
        return EMOTION_LABELS[max(range(len(self.emotion)), key=self.emotion.__getitem__)]

    @property
    def gender_label(self) -> Optional[str]:
        """More probable gender, or None when gender was not computed."""
        if self.gender is None:
            return None
        return GENDER_LABELS[0] if self.gender[0] >= self.gender[1] else GENDER_LABELS[1]

    def attention(self, yaw_limit: float, pitch_limit: float) -> Optional[float]:
        """Return attention_score of this face's head pose (None when it has none)."""
        return attention_score(self.head_pose, yaw_limit, pitch_limit)

    def with_attributes(self, **changes) -> 'Face':
        """Return a copy with some fields replaced (validated again)."""
        return replace(self, **changes)
