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
Face geometry, numpy only: head-pose rotations, REP-155 crops, 3D position and face frame.

The head pose's rotation (head_rotation, and its quaternion both ways) follows OMZ's
head-pose-estimation-adas-0001 convention; everything REP-155 (ROS4HRI) needs is built on it.

Camera coordinates are the optical frame of sensor_msgs/CameraInfo: x right, y down, z forward
(out of the lens), metres. The REP-155 face frame ``face_<id>`` has its origin at the sellion
(approximated, as REP-155 allows, by the midpoint of the eyes), x out of the face, z toward the
scalp, y to the person's left.
"""

from dataclasses import dataclass
import math
from typing import Optional, Sequence, Tuple

import numpy as np

# REP-155's default /humans/faces/width and /humans/faces/height: cropped and aligned faces are
# this many pixels square, scaled, centered and 0-padded.
CROP_SIZE = 128
# Adult mean interpupillary distance, 63 mm (Dodgson 2004, "Variation and extrema of human
# interpupillary distance"): the metric size behind the eye landmarks.
NOMINAL_EYE_DISTANCE_M = 0.063
# Width of a face-detection-0102 box on an adult face seen from the front, about ear to ear
# across the cheeks (adult bizygomatic breadth is 13-15 cm): the metric size behind a box when
# there are no landmarks.
NOMINAL_FACE_BOX_WIDTH_M = 0.15
# Without landmarks the sellion is taken this far down the box (a frontal face's eyes lie at
# about 40 % of the detector box's height).
SELLION_BOX_FRACTION = 0.4
# Turning the head shrinks the eyes' distance in the image (by cos(yaw) on the optical axis);
# beyond a factor of 2 (60 degrees) the correction would amplify landmark noise more than it
# removes bias, so it stops there.
MIN_FORESHORTENING = 0.5
# Index of each landmark in face.LANDMARK_NAMES.
RIGHT_EYE, LEFT_EYE = 0, 1

Box = Tuple[float, float, float, float]
Points = Sequence[Tuple[float, float]]


def eye_angle(landmarks: Points) -> float:
    """
    Return the angle (radians) of the line from the right eye to the left eye in the image.

    The person's right eye is on the image's left for a face looking at the camera, so an
    upright face gives 0; positive is clockwise on screen (image y points down).
    """
    (rx, ry), (lx, ly) = landmarks[RIGHT_EYE], landmarks[LEFT_EYE]
    return math.atan2(ly - ry, lx - rx)


def crop_matrix(box: Box, size: int = CROP_SIZE, angle: float = 0.0) -> np.ndarray:
    """
    Return the 2x3 affine map from frame pixels to a ``size`` x ``size`` face crop.

    The box is scaled to fit the square (its longer side = ``size``), centered, and rotated by
    ``-angle`` about its center, so that a line at ``angle`` in the frame is level in the crop
    (``angle=eye_angle(landmarks)`` gives the REP-155 ``aligned`` crop). Pixels outside the
    frame are 0 when the map is applied (cv2.warpAffine's default border).
    """
    x_min, y_min, x_max, y_max = box
    scale = size / max(x_max - x_min, y_max - y_min)
    cx, cy = (x_min + x_max) / 2.0, (y_min + y_max) / 2.0
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    # In continuous coordinates crop = S R(-angle) (p - c) + size/2; OpenCV puts pixel
    # centers at integers, so both sides shift by half a pixel.
    linear = np.array([[cos, sin], [-sin, cos]])
    offset = size / 2.0 - 0.5 - linear @ (np.array([cx, cy]) - 0.5)
    return np.hstack([linear, offset[:, None]])


def _normalized(point, intrinsics) -> np.ndarray:
    fx, fy, cx, cy = intrinsics
    return np.array([(point[0] - cx) / fx, (point[1] - cy) / fy])


def sellion_pixel(box: Box, landmarks: Optional[Points]) -> Tuple[float, float]:
    """
    Return the sellion in image pixels: the eyes' midpoint, or SELLION_BOX_FRACTION down the box.

    The origin of REP-155's face frame, and the point a face's 3D position is given for.
    """
    if landmarks is not None:
        (rx, ry), (lx, ly) = landmarks[RIGHT_EYE], landmarks[LEFT_EYE]
        return ((rx + lx) / 2.0, (ry + ly) / 2.0)
    x_min, y_min, x_max, y_max = box
    return ((x_min + x_max) / 2.0, y_min + SELLION_BOX_FRACTION * (y_max - y_min))


def face_position(box: Box, landmarks: Optional[Points], head_pose: Optional[Sequence[float]],
                  intrinsics: Tuple[float, float, float, float]) -> np.ndarray:
    """
    Estimate the sellion's 3D position (x, y, z metres, camera optical frame).

    ``intrinsics`` = (fx, fy, cx, cy) from CameraInfo.k (lens distortion is not applied). With
    landmarks: the sellion is the eyes' midpoint and the depth makes their distance equal
    NOMINAL_EYE_DISTANCE_M, corrected for foreshortening when the head pose is known.
    Without: the sellion is SELLION_BOX_FRACTION down the box's vertical midline and the depth
    makes the box NOMINAL_FACE_BOX_WIDTH_M wide.
    """
    if landmarks is not None:
        right = _normalized(landmarks[RIGHT_EYE], intrinsics)
        left = _normalized(landmarks[LEFT_EYE], intrinsics)
        sellion = (right + left) / 2.0
        extent = float(np.linalg.norm(left - right))
        if head_pose is not None:
            # The eyes lie along the face's y axis u: at depth z, a segment L along u projects
            # to L |u_xy - u_z * sellion| / z in normalized coordinates (first order).
            u = face_rotation(head_pose)[:, 1]
            extent /= max(float(np.linalg.norm(u[:2] - u[2] * sellion)), MIN_FORESHORTENING)
        size = NOMINAL_EYE_DISTANCE_M
    else:
        sellion = _normalized(sellion_pixel(box, None), intrinsics)
        extent = (box[2] - box[0]) / intrinsics[0]
        size = NOMINAL_FACE_BOX_WIDTH_M
    depth = size / max(extent, 1e-9)
    return np.array([sellion[0] * depth, sellion[1] * depth, depth])


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


# The REP-155 face frame's axes (columns) in head_rotation's head frame, which for a face
# looking into the camera is the camera optical frame: x out of the face = toward the camera
# (-z), y = the person's left = the image's right (+x), z = toward the scalp = up (-y).
FRONTAL_FACE_AXES = np.array([[0.0, 1.0, 0.0],
                              [0.0, 0.0, -1.0],
                              [-1.0, 0.0, 0.0]])
# The same rotation as a quaternion (x, y, z, w): 120 degrees about (1, 1, -1).
FRONTAL_FACE_QUATERNION = (0.5, 0.5, -0.5, 0.5)


def face_rotation(head_pose: Optional[Sequence[float]]) -> np.ndarray:
    """Return the face frame's axes (columns) in the camera frame; frontal without head pose."""
    if head_pose is None:
        return FRONTAL_FACE_AXES.copy()
    return np.array(head_rotation(*head_pose)) @ FRONTAL_FACE_AXES


def _quaternion_product(a, b) -> Tuple[float, float, float, float]:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz)


def face_quaternion(head_pose: Optional[Sequence[float]]) -> Tuple[float, float, float, float]:
    """Return face_rotation as a unit quaternion (x, y, z, w), w >= 0."""
    head = (0.0, 0.0, 0.0, 1.0) if head_pose is None else head_pose_quaternion(*head_pose)
    q = np.array(_quaternion_product(head, FRONTAL_FACE_QUATERNION))
    q /= np.linalg.norm(q)
    return tuple(float(v) for v in (-q if q[3] < 0 else q))


# Where a FacePosition comes from.
SOURCE_DEPTH, SOURCE_HELD, SOURCE_MONOCULAR = 'depth', 'depth held', 'monocular'


@dataclass(frozen=True)
class FacePosition:
    """
    A face's 3D position (m, camera optical frame): from depth, or the monocular estimate.

    Face's ``position`` attribute (depth.FaceLocator sets it). ``position`` is the sellion
    (sellion_pixel back-projected); ``sigma`` the standard deviations (x, y, z) in metres;
    ``source`` SOURCE_DEPTH (measured this frame, smoothed per track), SOURCE_HELD (this
    frame's depth rejected as a jump or missing: the track's smoothed value of at most
    depth.DEPTH_HOLD_SEC ago) or SOURCE_MONOCULAR (face_position); ``reason`` why a face has
    no depth (None with depth), ``pixels`` the depth pixels behind it.
    """

    position: Tuple[float, float, float]
    sigma: Tuple[float, float, float]
    source: str
    reason: Optional[str] = None
    pixels: int = 0

    def __post_init__(self):
        """Positions are finite and in front of the camera; sigmas are positive."""
        if len(self.position) != 3 or not all(math.isfinite(v) for v in self.position) \
                or self.position[2] <= 0.0:
            raise ValueError(f'position must be finite with z > 0, got {self.position}')
        if len(self.sigma) != 3 or not all(math.isfinite(s) and s > 0 for s in self.sigma):
            raise ValueError(f'sigma must be three positive numbers, got {self.sigma}')
        if self.source not in (SOURCE_DEPTH, SOURCE_HELD, SOURCE_MONOCULAR):
            raise ValueError(f'unknown source {self.source!r}')

    @property
    def distance(self) -> float:
        """Return the Euclidean distance from the camera (m)."""
        return float(math.sqrt(sum(v * v for v in self.position)))

    @property
    def from_depth(self) -> bool:
        """Whether the position comes from the depth image (measured or held)."""
        return self.source != SOURCE_MONOCULAR


def distance_note(position: Optional[FacePosition]) -> str:
    """
    Return the distance text of the annotated image: ``2.31 m`` from depth, ``~2.3 m`` monocular.

    The Euclidean distance from the camera; empty without a position.
    """
    if position is None:
        return ''
    if position.from_depth:
        return f'{position.distance:.2f} m'
    return f'~{position.distance:.1f} m'
