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

"""faces/detections_3d without a node: type hashes, Face + FacePosition -> Detection3DArray."""

import math

from facesense_ros import depth as dp
from facesense_ros import depth_conversions as dc
from facesense_ros.conversions import face_to_detection, LANDMARK_CLASSES
from facesense_ros.face import Face
from facesense_ros.face_geometry import head_pose_quaternion
import pytest
import rosutil
from std_msgs.msg import Header
from vision_msgs.msg import BoundingBox3D, Detection3D, Detection3DArray

# vision_msgs 4.1.1 (ros2 branch), the hashes of Jazzy's and Kilted's packages.
UPSTREAM_HASHES = {
    BoundingBox3D: 'RIHS01_bbb73a65c163d7f9bb29009c7bde9f7faa576bd2d23299c4511d19230dab4698',
    Detection3D: 'RIHS01_ddd703be132ab0b69d33121f1bb034132bfbb3b0ac5f9fb1516005ba1c8a265b',
    Detection3DArray:
        'RIHS01_793f5eab9595ac1c0da07873cc859db42eae51f0ee76056db8562515d830e018',
}
HEADER = Header(frame_id='camera_color_optical_frame')
HEADER.stamp.sec, HEADER.stamp.nanosec = 42, 7
INTRINSICS = (615.0, 615.0, 319.5, 239.5)
UPRIGHT = ((325.0, 230.0), (375.0, 230.0), (350.0, 260.0), (330.0, 285.0), (370.0, 285.0))


def _face(**changes):
    values = dict(x_min=300.0, y_min=180.0, x_max=400.0, y_max=310.0, score=0.93, age=34.4,
                  gender=(0.8, 0.2), emotion=(0.1, 0.6, 0.1, 0.1, 0.1), track_id=7,
                  landmarks=UPRIGHT)
    values.update(changes)
    return Face(**values)


def test_type_hashes_equal_upstream():
    assert rosutil.type_hashes(UPSTREAM_HASHES, 'depth_hash_check') == list(
        UPSTREAM_HASHES.values())


def _depth_position(z=2.0, sigma=0.01):
    pixel = ((UPRIGHT[0][0] + UPRIGHT[1][0]) / 2, (UPRIGHT[0][1] + UPRIGHT[1][1]) / 2)
    point = dp.back_project(pixel, z, INTRINSICS)
    return dp.FacePosition(tuple(float(v) for v in point), (0.02, 0.02, sigma), dp.SOURCE_DEPTH)


def test_one_detection_3d_per_face_with_the_2d_hypotheses_in_3d():
    position = _depth_position()
    face = _face(position=position)
    msg = dc.faces_to_detections_3d([face], HEADER, INTRINSICS)
    assert msg.header == HEADER and len(msg.detections) == 1
    det = msg.detections[0]
    flat = face_to_detection(face, HEADER)
    assert det.header == HEADER and det.id == '7' == flat.id
    center = det.bbox.center.position
    assert (center.x, center.y, center.z) == pytest.approx(position.position)
    # The box's metric width and height at that distance, a nominal head depth.
    assert det.bbox.size.x == pytest.approx(100.0 * 2.0 / 615.0)
    assert det.bbox.size.y == pytest.approx(130.0 * 2.0 / 615.0)
    assert det.bbox.size.z == dc.NOMINAL_HEAD_DEPTH_M
    assert [(r.hypothesis.class_id, r.hypothesis.score) for r in det.results] == \
        [(r.hypothesis.class_id, r.hypothesis.score) for r in flat.results]
    for result in det.results:
        p = result.pose.pose.position
        if result.hypothesis.class_id in LANDMARK_CLASSES:
            u, v = UPRIGHT[LANDMARK_CLASSES.index(result.hypothesis.class_id)]
            assert (p.x, p.y, p.z) == pytest.approx(dp.back_project((u, v), 2.0, INTRINSICS))
        else:
            assert (p.x, p.y, p.z) == pytest.approx(position.position)
        cov = result.pose.covariance
        assert cov[0] == pytest.approx(0.02 ** 2) and cov[14] == pytest.approx(0.01 ** 2)
        assert cov[21] == dc.UNKNOWN_ORIENTATION_VARIANCE
    assert dc.position_source(det) == dp.SOURCE_DEPTH
    # The consumer's decoder gives the position back.
    decoded = dc.detection_3d_position(det)
    assert decoded.position == pytest.approx(position.position)
    assert decoded.sigma == pytest.approx(position.sigma) and decoded.source == dp.SOURCE_DEPTH


def test_head_orientation_with_head_pose():
    face = _face(head_pose=(20.0, -10.0, 5.0), position=_depth_position())
    det = dc.face_to_detection_3d(face, HEADER, 0, INTRINSICS)
    q = det.bbox.center.orientation
    assert (q.x, q.y, q.z, q.w) == pytest.approx(head_pose_quaternion(20.0, -10.0, 5.0))
    face_hyp = det.results[0]
    assert face_hyp.hypothesis.class_id == 'face'
    assert face_hyp.pose.pose.orientation == q
    assert face_hyp.pose.covariance[21] == pytest.approx(dc.HEAD_POSE_VARIANCE)


def test_covariance_tells_depth_from_the_monocular_fallback():
    face = _face(track_id=None)
    mono = face.with_attributes(position=dp.monocular_position(face, INTRINSICS, dp.NO_MATCH))
    worst_depth = face.with_attributes(position=_depth_position(
        z=6.0, sigma=dp.MAX_DEPTH_REL_SIGMA * 6.0))
    msg = dc.faces_to_detections_3d([mono, worst_depth], HEADER, INTRINSICS)
    first, second = msg.detections
    assert first.id == '0' and second.id == '1'
    assert dc.position_source(first) == dp.SOURCE_MONOCULAR
    assert dc.position_source(second) == dp.SOURCE_DEPTH
    z = first.results[0].pose.pose.position.z
    assert math.sqrt(first.results[0].pose.covariance[14]) / z == pytest.approx(
        dp.MONOCULAR_REL_SIGMA)


def test_a_face_without_position_is_refused_and_empty_frames_keep_the_header():
    with pytest.raises(ValueError, match='no position'):
        dc.faces_to_detections_3d([_face()], HEADER, INTRINSICS)
    empty = dc.faces_to_detections_3d([], HEADER, INTRINSICS)
    assert empty.header == HEADER and empty.detections == []
