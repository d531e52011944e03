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

"""Face <-> Detection2D convention, LabelInfo, and numpy <-> Image/CompressedImage messages."""

from pathlib import Path
import re

import cv2
from facesense_ros import conversions, face_geometry
from facesense_ros.conversions import (bgr_to_image_msg, CLASSES, compressed_msg_to_bgr,
                                       detections_to_records, faces_to_detections,
                                       image_msg_to_bgr, label_info)
from facesense_ros.encodings import from_bgr, ImageFormatError, SUPPORTED_ENCODINGS, to_bgr
from facesense_ros.face import Face
from facesense_ros.identity import Identity
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image
import skimage.data
from std_msgs.msg import Header

EMOTION = (0.1, 0.6, 0.1, 0.15, 0.05)
HEAD_POSE = (30.0, -12.0, 8.0)
LANDMARKS = ((225.0, 240.0), (265.0, 241.0), (246.0, 265.0), (228.0, 290.0), (262.0, 291.0))


def _header(sec=1700000000, nanosec=123456789, frame_id='cam_front'):
    header = Header(frame_id=frame_id)
    header.stamp.sec, header.stamp.nanosec = sec, nanosec
    return header


def _faces():
    return [
        Face(10.0, 20.0, 110.0, 150.0, 0.97, age=34.5, gender=(0.93, 0.07), emotion=EMOTION,
             track_id=3),
        # Too small for attributes: only the detector's result.
        Face(300.5, 40.25, 330.5, 80.75, 0.61, track_id=12),
        Face(400.0, 300.0, 480.0, 390.0, 0.8, age=61.0, gender=(0.2, 0.8), track_id=None),
        Face(200.0, 200.0, 290.0, 320.0, 0.9, track_id=7, head_pose=HEAD_POSE,
             landmarks=LANDMARKS, identity=Identity(17, 'Ada', 0.8)),
    ]


def _by_class(det):
    return {r.hypothesis.class_id: r for r in det.results}


def test_detection_convention():
    header = _header()
    msg = faces_to_detections(_faces(), header)
    assert msg.header == header
    assert [d.id for d in msg.detections] == ['3', '12', '2', '7']
    first, second, third, _ = msg.detections
    assert all(d.header == header for d in msg.detections)
    assert (first.bbox.center.position.x, first.bbox.center.position.y) == (60.0, 85.0)
    assert (first.bbox.size_x, first.bbox.size_y) == (100.0, 130.0)
    hyps = _by_class(first)
    assert list(hyps) == ['face', 'gender:female', 'gender:male', 'emotion:neutral',
                          'emotion:happy', 'emotion:sad', 'emotion:surprise', 'emotion:anger',
                          'age']
    assert hyps['face'].hypothesis.score == pytest.approx(0.97)
    assert hyps['gender:female'].hypothesis.score == pytest.approx(0.93)
    assert hyps['emotion:happy'].hypothesis.score == pytest.approx(0.6)
    assert hyps['age'].hypothesis.score == pytest.approx(0.345)
    for hyp in first.results:
        assert (hyp.pose.pose.position.x, hyp.pose.pose.position.y) == (60.0, 85.0)
    assert list(_by_class(second)) == ['face']
    assert (second.bbox.size_x, second.bbox.size_y) == (30.0, 40.5)
    assert 'emotion:happy' not in _by_class(third) and 'age' in _by_class(third)


def test_records_decode_what_was_encoded():
    faces = _faces()
    records = detections_to_records(faces_to_detections(faces, _header()))
    assert len(records) == 4
    first = records[0]
    assert first.id == '3' and first.track_id == 3
    assert first.box == pytest.approx(faces[0].box)
    assert first.age == pytest.approx(34.5)
    assert first.gender_label == 'female' and first.gender_score == pytest.approx(0.93)
    assert first.emotion_label == 'happy' and first.emotion_score == pytest.approx(0.6)
    assert first.describe() == 'id=3 gender=female(0.93) age=34 emotion=happy(0.60)'
    assert first.labels['face'] == pytest.approx(0.97)
    back = first.to_face()
    assert back.box == pytest.approx(faces[0].box) and back.track_id == 3
    assert back.emotion == pytest.approx(EMOTION)
    second = records[1]
    assert (second.age, second.gender, second.emotion) == (None, None, None)
    assert second.describe() == 'id=12'
    assert records[2].gender_label == 'male' and records[2].emotion_label is None
    assert records[2].to_dict()['box'] == pytest.approx(faces[2].box)


def _rotate(q, v):
    """Rotate vector v by unit quaternion q = (x, y, z, w)."""
    x, y, z, w = q
    u = np.array([x, y, z])
    v = np.asarray(v, np.float64)
    return 2.0 * u.dot(v) * u + (w * w - u.dot(u)) * v + 2.0 * w * np.cross(u, v)


def test_head_pose_is_the_face_orientation_in_the_camera_optical_frame():
    det = faces_to_detections(_faces(), _header()).detections[3]
    hyps = _by_class(det)
    q = hyps['face'].pose.pose.orientation
    q = (q.x, q.y, q.z, q.w)
    assert np.linalg.norm(q) == pytest.approx(1.0)
    # One angle at a time, in the optical frame (x right, y down, z forward): yaw turns about
    # -y, pitch about +x, roll about +z, right-handed.
    for angles, axis, turn in (((30.0, 0.0, 0.0), (0, -1, 0), 30.0),
                               ((0.0, 20.0, 0.0), (1, 0, 0), 20.0),
                               ((0.0, 0.0, -10.0), (0, 0, 1), -10.0)):
        half = np.radians(turn) / 2.0
        expected = tuple(np.sin(half) * np.array(axis, np.float64)) + (np.cos(half),)
        assert face_geometry.head_pose_quaternion(*angles) == pytest.approx(expected, abs=1e-12)
    # The face looks along the head's -z: yaw 30 turns it to the image's right (+x), pitch -12
    # up (-y), away from the camera (-z in the camera frame).
    normal = _rotate(q, (0.0, 0.0, -1.0))
    assert normal[0] > 0.4 and normal[1] < -0.1 and normal[2] < -0.8
    # Roll 8 about the face normal turns the head's x (the person's left) clockwise in the
    # image: its y component grows.
    assert _rotate(q, (1.0, 0.0, 0.0))[1] > 0.1
    # attention:looking: yaw 30 is 1.5 times the default 20 degree limit: 1 / (1 + 1.5**2).
    assert hyps['attention:looking'].hypothesis.score == pytest.approx(1.0 / 3.25)
    looser = faces_to_detections(_faces(), _header(), attention_limits=(60.0, 60.0))
    assert _by_class(looser.detections[3])['attention:looking'].hypothesis.score == \
        pytest.approx(0.8)
    for name, point in zip(('right_eye', 'left_eye', 'nose_tip', 'right_mouth_corner',
                            'left_mouth_corner'), LANDMARKS):
        position = hyps[f'landmark:{name}'].pose.pose.position
        assert (position.x, position.y, position.z) == (*point, 0.0)
        assert hyps[f'landmark:{name}'].hypothesis.score == 1.0
    # Faces without a head pose keep the message's identity orientation, and no attention.
    first = faces_to_detections(_faces(), _header()).detections[0]
    o = _by_class(first)['face'].pose.pose.orientation
    assert (o.x, o.y, o.z, o.w) == (0.0, 0.0, 0.0, 1.0)
    assert 'attention:looking' not in _by_class(first)


def test_records_decode_head_pose_landmarks_and_attention():
    records = detections_to_records(faces_to_detections(_faces(), _header()))
    record = records[3]
    assert record.head_pose == pytest.approx(HEAD_POSE, abs=1e-9)
    assert record.landmarks == LANDMARKS
    assert record.attention == pytest.approx(1.0 / 3.25) and record.looking is False
    assert record.describe() == ('id=7 yaw/pitch/roll=30/-12/8 looking=no(0.31) landmarks=5 '
                                 'person=17(Ada) identity_confidence=0.80')
    # The person id, the name (class identity:name:Ada) and the confidence come back.
    assert record.identity == Identity(17, 'Ada', 0.8)
    assert record.labels['identity:name:Ada'] == pytest.approx(0.8)
    back = record.to_face()
    assert back.head_pose == pytest.approx(HEAD_POSE) and back.landmarks == LANDMARKS
    assert all(r.head_pose is None and r.landmarks is None and r.attention is None
               and r.looking is None for r in records[:3])


def test_no_faces_gives_an_empty_array_with_the_header():
    header = _header(frame_id='empty')
    msg = faces_to_detections([], header)
    assert msg.header == header and len(msg.detections) == 0
    assert detections_to_records(msg) == []


def test_label_info_names_every_class():
    msg = label_info(_header(), 0.35, names=['Ada'])
    assert msg.threshold == pytest.approx(0.35)
    names = [c.class_name for c in msg.class_map]
    ids = [c.class_id for c in msg.class_map]
    assert len(set(ids)) == len(ids) and all(0 <= i < 65536 for i in ids)
    # Every class a detection can carry is named, and nothing else: the fixed classes first,
    # then one per gallery name.
    classes = {r.hypothesis.class_id for d in faces_to_detections(_faces(), _header()).detections
               for r in d.results}
    assert set(names) == classes
    assert names[:len(CLASSES)] == list(CLASSES) and names[-1] == 'identity:name:Ada'


def test_label_info_names_sorted_once_and_within_uint16():
    msg = label_info(_header(), 0.5, names=['Zoe', 'Ada', 'Zoe', 'Jean-Luc: the captain'])
    assert [c.class_name for c in msg.class_map][len(CLASSES):] == [
        'identity:name:Ada', 'identity:name:Jean-Luc: the captain', 'identity:name:Zoe']
    # A name with the prefix's separator in it decodes whole.
    face = Face(0.0, 0.0, 50.0, 50.0, 0.9, track_id=1,
                identity=Identity(4, 'Jean-Luc: the captain', 0.7))
    record = detections_to_records(faces_to_detections([face], _header()))[0]
    assert record.identity == Identity(4, 'Jean-Luc: the captain', 0.7)
    crowd = label_info(_header(), 0.5, names=[f'p{i:05d}' for i in range(70000)])
    assert len(crowd.class_map) == 65536 and crowd.class_map[-1].class_id == 65535


def test_image_message_round_trip():
    image = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    header = _header()
    msg = bgr_to_image_msg(image, header)
    assert (msg.width, msg.height, msg.step, msg.encoding) == (512, 512, 1536, 'bgr8')
    assert msg.header == header
    assert np.array_equal(image_msg_to_bgr(msg), image)
    # A non-contiguous view (a crop) is published as its own pixels.
    crop = image[100:200, 50:250]
    assert np.array_equal(image_msg_to_bgr(bgr_to_image_msg(crop, header)), crop)
    with pytest.raises(ImageFormatError, match='HxWx3 uint8'):
        bgr_to_image_msg(image[:, :, 0], header)


@pytest.mark.parametrize('encoding', SUPPORTED_ENCODINGS)
def test_image_msg_to_bgr_every_encoding(encoding):
    image = cv2.resize(cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR), (64, 48))
    raw = from_bgr(image, encoding)
    padded = np.zeros((48, raw.shape[1] + 7), np.uint8)
    padded[:, :raw.shape[1]] = raw
    msg = Image(height=48, width=64, encoding=encoding, step=padded.shape[1], is_bigendian=0)
    msg.data = padded.tobytes()
    out = image_msg_to_bgr(msg)
    assert np.array_equal(out, to_bgr(padded, encoding, 64, 48, padded.shape[1]))
    if encoding in ('bgr8', 'rgb8', 'bgra8', 'rgba8'):
        assert np.array_equal(out, image)


def test_bad_image_message_raises_image_format_error():
    msg = Image(height=10, width=10, encoding='bgr8', step=30, is_bigendian=0)
    msg.data = bytes(100)
    with pytest.raises(ImageFormatError):
        image_msg_to_bgr(msg)
    msg.encoding, msg.data = '32FC1', bytes(400)
    with pytest.raises(ImageFormatError, match='32FC1'):
        image_msg_to_bgr(msg)


def test_compressed_message():
    image = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    ok, png = cv2.imencode('.png', image)
    msg = CompressedImage(header=_header(), format='png')
    msg.data = png.tobytes()
    assert np.array_equal(compressed_msg_to_bgr(msg), image)
    msg.data = png.tobytes()[:200]
    with pytest.raises(ImageFormatError, match='could not be decoded'):
        compressed_msg_to_bgr(msg)


@pytest.mark.parametrize('encoding', SUPPORTED_ENCODINGS)
def test_cv_bridge_and_numpy_paths_agree(encoding):
    pytest.importorskip('cv_bridge', reason='cv_bridge needs a ROS install')
    if not conversions.cv_bridge_in_use():
        pytest.fail('cv_bridge imports but failed its self-check (numpy/OpenCV mismatch?)')
    image = cv2.resize(cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR), (64, 48))
    raw = from_bgr(image, encoding)
    msg = Image(height=48, width=64, encoding=encoding, step=raw.shape[1], is_bigendian=0)
    msg.data = raw.tobytes()
    assert np.array_equal(image_msg_to_bgr(msg), to_bgr(raw, encoding, 64, 48, raw.shape[1]))


def test_the_docs_show_the_real_describe_line_and_hypothesis_order():
    """Check that the examples of README and docs/interfaces.md are what the code gives."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / 'README.md').read_text()
    interfaces = (root / 'docs' / 'interfaces.md').read_text()
    points = ((204.7, 100.5), (246.0, 100.0), (225.0, 127.7), (210.0, 150.0), (240.0, 150.0))
    # The default parameters: landmarks on, head pose off.
    face = Face(180.2, 59.35, 271.0, 179.85, 0.998, age=34.2, gender=(0.93, 0.07),
                emotion=(0.1, 0.81, 0.04, 0.03, 0.02), track_id=3, landmarks=points)
    [record] = detections_to_records(faces_to_detections([face], _header()))
    line = record.describe()
    assert line == 'id=3 gender=female(0.93) age=34 emotion=happy(0.81) landmarks=5'
    assert line in readme and line in interfaces
    with_pose = face.with_attributes(head_pose=(-2.0, 11.3, 1.3))
    [record] = detections_to_records(faces_to_detections([with_pose], _header()))
    extra = record.describe()[len('id=3 gender=female(0.93) age=34 emotion=happy(0.81) '):]
    assert extra == 'yaw/pitch/roll=-2/11/1 looking=yes(0.76) landmarks=5'
    assert 'yaw/pitch/roll=-2/11/1 looking=yes(0.76)' in readme
    # The class ids in README's echo example appear in the message's order.
    example = readme[readme.index('ros2 topic echo /camera/faces/detections'):]
    example = example[:example.index('```', example.index('```yaml') + 3)]
    shown = re.findall(r"class_id: '?([a-z_:]+)'?", example)
    real = [r.hypothesis.class_id for r in faces_to_detections([with_pose], _header())
            .detections[0].results]
    assert shown == [c for c in real if c in shown], (shown, real)
