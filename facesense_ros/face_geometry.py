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
Face geometry for REP-155 (ROS4HRI), numpy only: crops, 3D position, face-frame orientation.

Camera coordinates are the optical frame of sensor_msgs/CameraInfo: x right, y down, z forward
(out of the lens), metres. The REP-155 face frame ``face_<id>`` has its origin at the sellion
(approximated, as REP-155 allows, by the midpoint of the eyes), x out of the face, z toward the
scalp, y to the person's left.
"""

import math
from typing import Optional, Sequence, Tuple

from facesense_ros.face import head_pose_quaternion, head_rotation
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


# The REP-155 face frame's axes (columns) in face.head_rotation's head frame, which for a face
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
