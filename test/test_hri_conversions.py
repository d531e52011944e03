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

"""REP-155 without a node: type hashes, Face -> hri_msgs, crops, 3D position and face frame."""

import itertools
import math

import cv2
from facesense_ros import face_geometry as fg
from facesense_ros import hri_conversions as hc
from facesense_ros.face import EMOTION_LABELS, Face
from hri_msgs.msg import (Expression, FacialLandmarks, IdsList, IdsMatch,
                          NormalizedPointOfInterest2D, NormalizedRegionOfInterest2D,
                          SoftBiometrics)
import numpy as np
import pytest
import rclpy
from rclpy.node import Node
import rosutil
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage

# Upstream's type hashes (hri_msgs 2.x on Jazzy/Kilted; tf2_msgs): ours must be identical.
UPSTREAM_HASHES = {
    IdsList: 'RIHS01_7e0812d1ac945c98fd3e393568d581ad0ab567f37b24eff633eab778c1bfe62d',
    NormalizedPointOfInterest2D:
        'RIHS01_cc1d2f720c82afeb850ff1dbf66f41ecb7caf19f842987f1247e66160cf03953',
    NormalizedRegionOfInterest2D:
        'RIHS01_2e50c93f1ca166ee77af9a5424dc951ae4e452b740162a7f83c082d917dcaff5',
    FacialLandmarks: 'RIHS01_f1d6b0ba159f4d6be1632e5dfc9cb79ce5e35da73888da2a4789bd9b35112a63',
    SoftBiometrics: 'RIHS01_b71b1b988b22c4a7f4f04b5395ae89a3168dff71ddd44bbf29ea84d4645fd69e',
    Expression: 'RIHS01_411b88e0604397d44775d8ec6a4bc69398fb0dfbfe864c33a40fa99ee85f1b00',
    IdsMatch: 'RIHS01_1c649d4a87ca2d4fe5f606395e83a863640e411c9192dfda6d399a68019966f0',
    TFMessage: 'RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087',
}
HEADER = Header(frame_id='cam')
HEADER.stamp.sec, HEADER.stamp.nanosec = 42, 7
# A 640x480 camera with a 60-degree horizontal field of view.
FX = 320.0 / math.tan(math.radians(30.0))
INTRINSICS = (FX, FX, 319.5, 239.5)
# Landmarks of an upright face in the box (100, 80, 200, 210), LANDMARK_NAMES order.
UPRIGHT = ((125.0, 130.0), (175.0, 130.0), (150.0, 160.0), (130.0, 185.0), (170.0, 185.0))


def _face(**changes):
    values = dict(x_min=100.0, y_min=80.0, x_max=200.0, y_max=210.0, score=0.93, age=34.4,
                  gender=(0.8, 0.2), emotion=(0.1, 0.6, 0.1, 0.1, 0.1), track_id=7,
                  landmarks=UPRIGHT)
    values.update(changes)
    return Face(**values)


def test_type_hashes_equal_upstream():
    assert rosutil.type_hashes(UPSTREAM_HASHES, 'hri_hash_check') == list(
        UPSTREAM_HASHES.values())


def test_face_ids_are_valid_topic_tokens_and_name_the_node():
    prefix = hc.face_id_prefix('/left/facesense', '3fa2')
    assert prefix == 'left_facesense_3fa2'
    assert hc.face_id(prefix, 12) == 'left_facesense_3fa2_12'
    assert hc.face_id_prefix('/facesense', '00ff') == 'facesense_00ff'
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node('hri_id_check', context=context)
    try:
        # rcl validates the name: an id that is no valid topic token raises here.
        for face_id in (hc.face_id(prefix, 12), hc.face_id('facesense_00ff', 1)):
            publisher = node.create_publisher(IdsList, f'/humans/faces/{face_id}/roi', 1)
            assert publisher.topic_name == f'/humans/faces/{face_id}/roi'
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)


def test_roi_is_normalized_with_the_detector_score():
    msg = hc.roi(_face(), HEADER, 640, 480)
    assert msg.header == HEADER
    assert (msg.xmin, msg.ymin, msg.xmax, msg.ymax) == pytest.approx(
        (100 / 640, 80 / 480, 200 / 640, 210 / 480), abs=1e-6)
    assert msg.c == pytest.approx(0.93)


def test_landmarks_at_rep155_indices_every_other_point_unknown():
    msg = hc.landmarks(_face(), HEADER, 640, 480)
    assert (msg.width, msg.height, len(msg.landmarks)) == (640, 480, 70)
    known = {FacialLandmarks.RIGHT_PUPIL: UPRIGHT[0], FacialLandmarks.LEFT_PUPIL: UPRIGHT[1],
             FacialLandmarks.NOSE: UPRIGHT[2], FacialLandmarks.MOUTH_OUTER_RIGHT: UPRIGHT[3],
             FacialLandmarks.MOUTH_OUTER_LEFT: UPRIGHT[4]}
    assert (68, 69, 30, 48, 54) == tuple(known)
    for index, point in enumerate(msg.landmarks):
        if index in known:
            assert point.c > 0
            assert (point.x * 640, point.y * 480) == pytest.approx(known[index], abs=1e-3)
        else:
            assert point.c == 0.0
    assert hc.landmarks(_face(landmarks=None), HEADER, 640, 480) is None


def test_softbiometrics():
    msg = hc.softbiometrics(_face(), HEADER)
    assert (msg.age, msg.gender) == (34, SoftBiometrics.FEMALE)
    assert msg.gender_confidence == pytest.approx(0.8)
    assert msg.age_confidence == hc.AGE_CONFIDENCE
    male = hc.softbiometrics(_face(gender=(0.3, 0.7), age=None), HEADER)
    assert (male.gender, male.age, male.age_confidence) == (SoftBiometrics.MALE, 0, 0.0)
    no_gender = hc.softbiometrics(_face(gender=None), HEADER)
    assert (no_gender.gender, no_gender.gender_confidence) == (SoftBiometrics.UNDEFINED, 0.0)
    assert hc.softbiometrics(_face(age=None, gender=None), HEADER) is None


@pytest.mark.parametrize('label', EMOTION_LABELS)
def test_expression_names_and_circumplex(label):
    probabilities = [0.05] * 5
    probabilities[EMOTION_LABELS.index(label)] = 0.8
    msg = hc.expression(_face(emotion=probabilities), HEADER)
    expected = {'neutral': 'neutral', 'happy': 'happy', 'sad': 'sad', 'surprise': 'surprised',
                'anger': 'angry'}[label]
    assert msg.expression == expected
    assert msg.confidence == pytest.approx(0.8)
    assert -1.0 <= msg.valence <= 1.0 and -1.0 <= msg.arousal <= 1.0
    # The circumplex's quadrants: happy pleasant, sad unpleasant and calm, anger unpleasant
    # and aroused, surprise aroused; neutral at the center.
    sign = {'neutral': (0, 0), 'happy': (1, 1), 'sad': (-1, -1), 'surprise': (1, 1),
            'anger': (-1, 1)}[label]
    assert (np.sign(round(msg.valence, 3)), np.sign(round(msg.arousal, 3))) == sign
    assert hc.expression(_face(emotion=None), HEADER) is None


def _frame():
    """640x480 frame: a horizontal ramp in blue, vertical in green, red 255 in the face box."""
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[..., 0] = (np.arange(640) * 255 // 639)[None, :]
    frame[..., 1] = (np.arange(480) * 255 // 479)[:, None]
    frame[80:210, 100:200, 2] = 255
    return frame


def test_cropped_is_the_box_scaled_centered_and_zero_padded():
    crop = hc.crop(_frame(), _face())
    assert crop.shape == (fg.CROP_SIZE, fg.CROP_SIZE, 3)
    # The box is 100x130: its height fills 128 rows, its width 98.5 columns centered.
    assert (crop[:, 20:108, 2] == 255).all()
    assert (crop[:, :12, 2] == 0).all() and (crop[:, 117:, 2] == 0).all()
    # The box's center pixel lands at the crop's center.
    assert crop[64, 64, 0] == pytest.approx(_frame()[145, 150, 0], abs=2)
    # Rotated past the frame's corner (aligned): zero there too.
    tilted = hc.crop(_frame(), _face(x_min=0.0, y_min=0.0, x_max=40.0, y_max=40.0,
                                     landmarks=((5, 5), (35, 35), (20, 20), (10, 30), (30, 35))),
                     aligned=True)
    assert (tilted[0, :20] == 0).all() and tilted[64, 64].any()
    msg = hc.crop_msg(_frame(), _face(), HEADER)
    assert (msg.width, msg.height, msg.encoding, msg.header) == (128, 128, 'bgr8', HEADER)


@pytest.mark.parametrize('degrees', [-35.0, -10.0, 0.0, 20.0, 40.0])
def test_aligned_crop_puts_the_eyes_level(degrees):
    # Two bright eye dots 60 px apart, rotated by `degrees` about the box center.
    center = np.array([320.0, 240.0])
    angle = math.radians(degrees)
    offset = 30.0 * np.array([math.cos(angle), math.sin(angle)])
    right, left = center - offset, center + offset
    frame = np.zeros((480, 640, 3), np.uint8)
    for x, y in (right, left):
        cv2.circle(frame, (int(round(x)), int(round(y))), 3, (255, 255, 255), -1)
    face = Face(260.0, 170.0, 380.0, 310.0, 0.9, track_id=1,
                landmarks=(tuple(right), tuple(left), (320, 260), (300, 280), (340, 280)))
    aligned = hc.crop(frame, face, aligned=True)
    assert aligned.shape == (128, 128, 3)
    _, labels, stats, centroids = cv2.connectedComponentsWithStats(
        (aligned[..., 0] > 128).astype(np.uint8))
    dots = sorted(centroids[1:].tolist())
    assert len(dots) == 2
    (x0, y0), (x1, y1) = dots
    assert abs(y1 - y0) < 1.0, dots
    # The person's right eye stays on the crop's left, at the scale of the crop.
    assert x0 < 64 < x1 and (x1 - x0) == pytest.approx(60 * 128 / 140, abs=1.5)
    assert hc.crop(frame, face.with_attributes(landmarks=None), aligned=True) is None


def _project(point):
    fx, fy, cx, cy = INTRINSICS
    return (fx * point[0] / point[2] + cx, fy * point[1] / point[2] + cy)


def _synthetic_eyes(sellion, head_pose):
    """Project the eyes of a head with its sellion at ``sellion`` (m) and this head pose."""
    rotation = fg.face_rotation(head_pose)
    half = rotation[:, 1] * fg.NOMINAL_EYE_DISTANCE_M / 2.0   # along the face's y (left)
    return _project(sellion - half), _project(sellion + half)


def test_position_accuracy_on_synthetic_projections():
    """
    Sellion position error over a grid of known geometry (the figures docs/interfaces.md cites).

    Heads with the nominal eye distance anywhere in a 60-degree view at 0.8-4 m, yaw +-45,
    pitch +-30, roll +-30 degrees, projected through the pinhole model.
    """
    errors = []
    for x, y, z, yaw, pitch, roll in itertools.product(
            (-0.5, 0.0, 0.5), (-0.3, 0.0, 0.3), (0.8, 1.5, 4.0), (-45, -20, 0, 20, 45),
            (-30, 0, 30), (-30, 0, 30)):
        sellion = np.array([x * z / 1.5, y * z / 1.5, z])
        right, left = _synthetic_eyes(sellion, (yaw, pitch, roll))
        landmarks = (right, left, right, right, left)
        estimate = fg.face_position((0, 0, 1, 1), landmarks, (yaw, pitch, roll), INTRINSICS)
        errors.append(np.linalg.norm(estimate - sellion) / z)
    errors = np.array(errors)
    # Measured: median 0.01 %, 95th percentile 1.7 %, max 16.8 % of the distance (the max:
    # yaw 45 degrees at the view's corner, where the foreshortening correction is capped).
    assert np.median(errors) < 0.001
    assert np.percentile(errors, 95) < 0.03
    assert errors.max() < 0.2


def test_position_without_head_pose_or_landmarks():
    sellion = np.array([0.2, -0.1, 1.2])
    right, left = _synthetic_eyes(sellion, None)
    estimate = fg.face_position((0, 0, 1, 1), (right, left, right, right, left), None,
                                INTRINSICS)
    assert estimate == pytest.approx(sellion, abs=1e-6)
    # Box only: a box of the nominal width at 2 m, its sellion 40 % down the box.
    width_px = FX * fg.NOMINAL_FACE_BOX_WIDTH_M / 2.0
    box = (319.5 - width_px / 2, 200.0, 319.5 + width_px / 2, 200.0 + width_px * 1.3)
    estimate = fg.face_position(box, None, None, INTRINSICS)
    assert estimate[2] == pytest.approx(2.0)
    assert _project(estimate) == pytest.approx((319.5, 200.0 + 0.4 * width_px * 1.3))


def test_face_frame_convention():
    frontal = fg.face_rotation(None)
    # x out of the face (toward the camera), y to the person's left (image right), z up.
    assert frontal[:, 0] == pytest.approx([0, 0, -1])
    assert frontal[:, 1] == pytest.approx([1, 0, 0])
    assert frontal[:, 2] == pytest.approx([0, -1, 0])
    assert np.linalg.det(frontal) == pytest.approx(1.0)
    assert fg.face_rotation((0, 0, 0)) == pytest.approx(frontal)
    # face.head_rotation's measured signs (docs/interfaces.md): positive yaw turns the face
    # toward the image's right, positive pitch down, positive roll clockwise on screen.
    assert fg.face_rotation((30, 0, 0))[:, 0] == pytest.approx([0.5, 0, -math.sqrt(0.75)])
    assert fg.face_rotation((0, 30, 0))[:, 0] == pytest.approx([0, 0.5, -math.sqrt(0.75)])
    assert fg.face_rotation((0, 0, 30))[:, 2] == pytest.approx([0.5, -math.sqrt(0.75), 0])


def _matrix(q):
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def test_face_quaternion_is_the_face_rotation():
    assert _matrix(fg.FRONTAL_FACE_QUATERNION) == pytest.approx(fg.FRONTAL_FACE_AXES)
    assert fg.face_quaternion(None) == pytest.approx(fg.FRONTAL_FACE_QUATERNION)
    rng = np.random.default_rng(3)
    for yaw, pitch, roll in rng.uniform(-89, 89, size=(200, 3)):
        q = fg.face_quaternion((yaw, pitch, roll))
        assert np.linalg.norm(q) == pytest.approx(1.0) and q[3] >= 0
        assert _matrix(q) == pytest.approx(fg.face_rotation((yaw, pitch, roll)), abs=1e-9)


def test_face_transform_and_tf_message():
    face = _face(head_pose=(10.0, -5.0, 3.0))
    msg = hc.tf_message([hc.face_transform(face, HEADER, 'face_a_1', INTRINSICS)])
    (transform,) = msg.transforms
    assert transform.header == HEADER and transform.child_frame_id == 'face_a_1'
    t, r = transform.transform.translation, transform.transform.rotation
    position = np.array([t.x, t.y, t.z])
    assert position == pytest.approx(fg.face_position(face.box, face.landmarks,
                                                      face.head_pose, INTRINSICS))
    # The sellion projects back onto the eyes' midpoint.
    assert _project(position) == pytest.approx((150.0, 130.0), abs=1e-6)
    assert _matrix((r.x, r.y, r.z, r.w)) == pytest.approx(
        fg.face_rotation(face.head_pose), abs=1e-9)
    face_tf, gaze_tf = hc.face_transforms(face, HEADER, 'a_1', INTRINSICS)
    assert (face_tf.child_frame_id, gaze_tf.child_frame_id) == ('face_a_1', 'gaze_a_1')
    assert gaze_tf.header.frame_id == 'face_a_1' and gaze_tf.header.stamp == HEADER.stamp
    g = gaze_tf.transform
    assert (g.translation.x, g.translation.y, g.translation.z) == (0.0, 0.0, 0.0)
    # REP-155: gaze z along the face's x, gaze x to the person's right, y down.
    gaze = _matrix((g.rotation.x, g.rotation.y, g.rotation.z, g.rotation.w))
    assert gaze[:, 2] == pytest.approx([1, 0, 0])
    assert gaze[:, 0] == pytest.approx([0, -1, 0])
    assert gaze[:, 1] == pytest.approx([0, 0, -1])
    assert hc.intrinsics_from_k([0.0] * 9) is None
    assert hc.intrinsics_from_k([FX, 0, 319.5, 0, FX, 239.5, 0, 0, 1]) == INTRINSICS
