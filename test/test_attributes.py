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

"""Attributes declared once: generated parameters, one Face record, encode/decode, labels."""

from dataclasses import fields

from facesense_ros import attributes, drawing
from facesense_ros.attributes import ATTRIBUTES, MODELS
from facesense_ros.config import PARAMETERS, PipelineConfig, TrackingConfig
from facesense_ros.conversions import (CLASSES, detection_to_face_record, detections_to_records,
                                       face_to_detection, FaceRecord, faces_to_detections)
from facesense_ros.face import Face
from facesense_ros.hri_publishers import SUBTOPICS
from facesense_ros.models import ATTRIBUTE_MODEL_CLASSES
from facesense_ros.tracking import SMOOTHED_ATTRIBUTES
import numpy as np
import pytest
from std_msgs.msg import Header

# A face with every attribute, its values exactly representable after the round trip.
FULL = Face(200.0, 200.0, 290.0, 320.0, 0.875, age=34.0, gender=(0.75, 0.25),
            emotion=(0.125, 0.5, 0.125, 0.125, 0.125), track_id=7, head_pose=(30.0, -12.0, 8.0),
            landmarks=((225.0, 240.0), (265.0, 241.0), (246.0, 265.0), (228.0, 290.0),
                       (262.0, 291.0)))


def test_every_model_and_attribute_generates_its_parameters_with_todays_names():
    # The names users' parameter files use: <key>, <key>_precisions, min_face_size_<key>.
    for model in MODELS:
        for name in (model.key, f'{model.key}_precisions', f'min_face_size_{model.key}'):
            assert name in PARAMETERS, name
        assert PARAMETERS[model.key].default is model.enabled
        assert PARAMETERS[model.key].description == (model.description
                                                     or f'Run {model.omz_name}.')
        assert PARAMETERS[f'min_face_size_{model.key}'].default == model.min_face_size
    for attribute in ATTRIBUTES:
        if attribute.smoothing in attributes.WEIGHTED_SMOOTHING:
            spec = PARAMETERS[f'{attribute.field}_smoothing']
            assert spec.default == attribute.smoothing_default and spec.group == 'tracking'
        for spec in attribute.parameters:
            assert PARAMETERS[spec.name] is spec
    # Today's defaults, spelled out: a change here breaks users' expectations.
    assert {n: PARAMETERS[n].default for n in (
        'age_gender', 'emotions', 'head_pose', 'landmarks', 'min_face_size_age_gender',
        'min_face_size_emotions', 'min_face_size_head_pose', 'min_face_size_landmarks',
        'age_smoothing', 'gender_smoothing', 'emotion_smoothing', 'head_pose_smoothing',
        'landmarks_smoothing', 'attention_yaw', 'attention_pitch')} == {
        'age_gender': True, 'emotions': True, 'head_pose': False, 'landmarks': True,
        'min_face_size_age_gender': 62, 'min_face_size_emotions': 64,
        'min_face_size_head_pose': 60, 'min_face_size_landmarks': 48, 'age_smoothing': 0.3,
        'gender_smoothing': 0.2, 'emotion_smoothing': 0.4, 'head_pose_smoothing': 0.5,
        'landmarks_smoothing': 0.6, 'attention_yaw': 20.0, 'attention_pitch': 20.0}


def test_the_configs_have_one_field_per_parameter_of_their_group():
    for config, group in ((PipelineConfig, 'pipeline'), (TrackingConfig, 'tracking')):
        assert [f.name for f in fields(config)] == [
            s.name for s in PARAMETERS.values() if s.group == group]
        assert config().to_dict() == {s.name: s.default for s in PARAMETERS.values()
                                      if s.group == group}
    with pytest.raises(ValueError, match='emotion_smoothing: 1.5 is out of range 0.01..1.0'):
        TrackingConfig(emotion_smoothing=1.5)


def test_declarations_are_wired_everywhere():
    face_fields = {f.name for f in fields(Face)}
    assert all(a.field in face_fields for a in ATTRIBUTES)
    assert [m.key for m in ATTRIBUTE_MODEL_CLASSES] == [m.key for m in MODELS if m.in_pipeline]
    assert all(a.model is None or a.model in attributes.MODELS_BY_KEY for a in ATTRIBUTES)
    assert {f for f, _, _, _ in SMOOTHED_ATTRIBUTES} == {
        a.field for a in ATTRIBUTES if a.smoothing is not None}
    declared = [c for a in ATTRIBUTES for c in a.classes]
    assert len(declared) == len(set(declared)) and set(CLASSES) == {'face', *declared}
    # The first release's class ids never move.
    assert CLASSES[:3] == ('face', 'gender:female', 'gender:male')
    assert CLASSES.index('age') == 8 and CLASSES.index('attention:looking') == 9
    for attribute in ATTRIBUTES:
        assert set(attribute.rep155) <= set(SUBTOPICS) | {'tf'}, attribute.field


def test_the_decoder_gives_the_cores_face_back():
    record = detection_to_face_record(face_to_detection(FULL, Header()))
    assert isinstance(record, Face) and isinstance(record, FaceRecord)
    face = record.to_face()
    assert type(face) is Face and face.box == FULL.box and face.track_id == FULL.track_id
    # Exact but for the head pose's round trip through a quaternion.
    assert face.with_attributes(head_pose=FULL.head_pose) == FULL
    # Each attribute round-trips through its own hypotheses (those in the Detection2D: the 3D
    # position travels in faces/detections_3d, depth_conversions).
    for attribute in (a for a in ATTRIBUTES if a.decode is not None):
        value, expected = getattr(record, attribute.field), getattr(FULL, attribute.field)
        if expected is None:
            # Attributes FULL does not set (identity: test_identity.py) are absent.
            assert value is None, attribute.field
            continue
        assert np.allclose(value, expected, rtol=0.0, atol=1e-9), attribute.field
    assert record.id == '7' and record.attention == pytest.approx(1.0 / 3.25)
    # Without the optional attributes nothing is invented.
    bare = detection_to_face_record(face_to_detection(Face(1.0, 2.0, 3.0, 4.0, 0.5), Header()))
    assert all(getattr(bare, a.field) is None for a in ATTRIBUTES) and bare.attention is None


def test_one_label_and_description_implementation():
    record, = detections_to_records(faces_to_detections([FULL], Header()))
    # Face and the decoded record describe alike; the record with the node's attention.
    assert FULL.describe() == record.describe() == (
        'id=7 gender=female(0.75) age=34 emotion=happy(0.50) yaw/pitch/roll=30/-12/8 '
        'looking=no(0.31) landmarks=5')
    assert drawing.format_label(FULL) == drawing.format_label(record) == '#7 F 34 happy'
    assert Face(1.0, 2.0, 3.0, 4.0, 0.5).describe() == ''
    assert FULL.gender_label == 'female' and FULL.emotion_label == 'happy'
    # argmax ties: the first label, as before.
    tie = Face(1.0, 2.0, 3.0, 4.0, 0.5, gender=(0.5, 0.5), emotion=(0.2,) * 5)
    assert (tie.gender_label, tie.emotion_label) == ('female', 'neutral')


def test_a_message_that_is_no_face_is_refused_naming_it():
    det = face_to_detection(FULL, Header())
    det.bbox.size_x = 0.0
    with pytest.raises(ValueError, match="Detection2D '7'.*positive size"):
        detection_to_face_record(det)
    det = face_to_detection(FULL, Header())
    next(r for r in det.results if r.hypothesis.class_id == 'age').hypothesis.score = 2.0
    with pytest.raises(ValueError, match='age must be in'):
        detection_to_face_record(det)


def test_declarations_are_checked():
    with pytest.raises(ValueError, match='smoothing must be one of'):
        attributes.Attribute('x', float, smoothing='median')
    for bad in ((0.3, 0.3), (0.5, 0.5, 0.0), (float('nan'), 1.0)):
        with pytest.raises(ValueError, match='gender'):
            Face(1.0, 2.0, 3.0, 4.0, 0.5, gender=bad)
