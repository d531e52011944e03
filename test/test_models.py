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

"""The OpenVINO wrappers on the real OMZ files: binding, validation, resize, batching, async."""

import shutil

# ament_flake8 knows no application names: every non-stdlib import is one alphabetical group.
import cv2
from facesense_ros import sample_frames
from facesense_ros.config import DETECTORS
from facesense_ros.models import (AgeGenderModel, check_frame, EmotionsModel, FaceDetector,
                                  HeadPoseModel, LandmarksModel, ModelError)
import numpy as np
import pytest
from reference import (AGE_GENDER_FILE, DETECTOR_FILES, EMOTIONS_FILE, HEAD_POSE_FILE, iou,
                       LANDMARKS_FILE, ReferencePipeline)

# The astronaut's face as the seed's pipeline (host resize) finds it with face-detection-0102.
ASTRONAUT_MIN_IOU = 0.9


@pytest.fixture(scope='module')
def detector(model_dir):
    return FaceDetector(model_dir / DETECTOR_FILES['face-detection-0102'])


@pytest.fixture(scope='module')
def age_gender(model_dir):
    return AgeGenderModel(model_dir / AGE_GENDER_FILE)


@pytest.fixture(scope='module')
def emotions(model_dir):
    return EmotionsModel(model_dir / EMOTIONS_FILE)


@pytest.fixture(scope='module')
def reference(model_dir):
    return ReferencePipeline(model_dir)


@pytest.mark.parametrize('name', DETECTORS)
def test_each_supported_detector_finds_the_astronaut(model_dir, reference, name):
    detector = FaceDetector(model_dir / DETECTOR_FILES[name])
    faces = detector.detect(sample_frames.astronaut(), threshold=0.5)
    assert len(faces) == 1
    expected = reference.detect(sample_frames.astronaut())[0]['box']
    assert iou(faces[0].box, expected) >= ASTRONAUT_MIN_IOU
    assert faces[0].score >= 0.9


def test_retail_0005_binds_its_odd_port_names(model_dir):
    detector = FaceDetector(model_dir / DETECTOR_FILES['face-detection-retail-0005'])
    assert detector.input_name == 'input.1'
    assert detector.output_name == '527'
    assert (detector.input_height, detector.input_width) == (300, 300)


@pytest.fixture(scope='module')
def detector_resizing(model_dir):
    return FaceDetector(model_dir / DETECTOR_FILES['face-detection-0102'], resize_in_model=True)


@pytest.mark.parametrize('size', [(640, 480), (1280, 720), (333, 251)])
def test_u8_input_gives_the_float_host_result(detector, reference, size):
    frame, _ = sample_frames.compose_frame(3, size=size, face_px=(64, 120), seed=11)
    ours = detector.detect(frame)
    theirs = reference.detect(frame)
    assert len(ours) == len(theirs) == 3
    for face, ref in zip(ours, theirs):
        assert face.box == pytest.approx(ref['box'], abs=0.01)
        assert face.score == pytest.approx(ref['score'], abs=1e-4)


@pytest.mark.parametrize('size', [(640, 480), (1280, 720), (333, 251)])
def test_resize_in_the_model_agrees_with_host_resize(detector_resizing, reference, size):
    frame, _ = sample_frames.compose_frame(3, size=size, face_px=(64, 120), seed=11)
    ours = detector_resizing.detect(frame)
    theirs = reference.detect(frame)
    assert len(ours) == len(theirs) == 3
    for face, ref in zip(ours, theirs):
        assert iou(face.box, ref['box']) >= 0.95
        assert abs(face.score - ref['score']) <= 0.02


@pytest.mark.parametrize('kind,wrong,expected', [
    (FaceDetector, EMOTIONS_FILE, 'is not a face detector'),
    (AgeGenderModel, DETECTOR_FILES['face-detection-retail-0005'], 'is not an age-gender model'),
    (EmotionsModel, AGE_GENDER_FILE, 'is not an emotions model'),
    (HeadPoseModel, EMOTIONS_FILE, 'is not a head-pose model'),
    (HeadPoseModel, LANDMARKS_FILE, 'is not a head-pose model'),
    (LandmarksModel, HEAD_POSE_FILE, 'is not a landmarks model'),
    (LandmarksModel, AGE_GENDER_FILE, 'is not a landmarks model'),
])
def test_wrong_model_for_role_names_the_file(model_dir, kind, wrong, expected):
    with pytest.raises(ModelError) as error:
        kind(model_dir / wrong)
    message = str(error.value)
    assert str(model_dir / wrong) in message and expected in message
    assert '\n' not in message


def _copy_model(model_dir, relative, target):
    source = model_dir / relative
    xml = target / source.name
    shutil.copy(source, xml)
    shutil.copy(source.with_suffix('.bin'), xml.with_suffix('.bin'))
    return xml


def test_truncated_bin_is_a_model_error(model_dir, tmp_path):
    xml = _copy_model(model_dir, DETECTOR_FILES['face-detection-0102'], tmp_path)
    weights = xml.with_suffix('.bin')
    weights.write_bytes(weights.read_bytes()[:weights.stat().st_size // 2])
    with pytest.raises(ModelError, match='truncated') as error:
        FaceDetector(xml)
    assert str(xml) in str(error.value)


def test_truncated_xml_is_a_model_error(model_dir, tmp_path):
    xml = _copy_model(model_dir, EMOTIONS_FILE, tmp_path)
    xml.write_bytes(xml.read_bytes()[:4000])
    with pytest.raises(ModelError) as error:
        EmotionsModel(xml)
    assert str(xml) in str(error.value)


def test_missing_files_are_model_errors(model_dir, tmp_path):
    with pytest.raises(ModelError, match='not found'):
        FaceDetector(tmp_path / 'face-detection-0102.xml')
    xml = _copy_model(model_dir, AGE_GENDER_FILE, tmp_path)
    xml.with_suffix('.bin').unlink()
    with pytest.raises(ModelError, match='weights file not found') as error:
        AgeGenderModel(xml)
    assert str(xml.with_suffix('.bin')) in str(error.value)


def test_unknown_device_is_a_model_error(model_dir):
    with pytest.raises(ModelError, match='NO_SUCH_DEVICE'):
        EmotionsModel(model_dir / EMOTIONS_FILE, device='NO_SUCH_DEVICE')


def test_postprocess_stops_at_padding_clamps_and_keeps_the_best(detector):
    rows = np.zeros((1, 1, 8, 7), np.float32)
    rows[0, 0, 0] = [0, 1, 0.6, 0.1, 0.1, 0.2, 0.3]
    rows[0, 0, 1] = [0, 1, 0.9, -0.1, 0.5, 0.3, 1.2]  # sticks out: clamped
    rows[0, 0, 2] = [0, 1, 0.4, 0.5, 0.5, 0.6, 0.6]  # under the threshold
    rows[0, 0, 3] = [0, 1, 0.8, 1.1, 0.2, 1.3, 0.4]  # entirely outside: empty after clamping
    rows[0, 0, 4] = [0, 1, 0.7, 0.6, 0.1, 0.7, 0.2]
    rows[0, 0, 5] = [-1, 0, 0, 0, 0, 0, 0]  # end of the detections
    rows[0, 0, 6] = [0, 1, 0.99, 0.1, 0.1, 0.5, 0.5]  # after the end: ignored
    outputs = {detector.output_name: rows}
    faces = detector.postprocess(outputs, (200, 100), threshold=0.5, max_faces=20)
    assert [round(f.score, 2) for f in faces] == [0.9, 0.7, 0.6]
    assert faces[0].box == pytest.approx((0.0, 50.0, 60.0, 100.0), abs=1e-3)
    assert faces[2].box == pytest.approx((20.0, 10.0, 40.0, 30.0), abs=1e-3)
    top = detector.postprocess(outputs, (200, 100), threshold=0.5, max_faces=2)
    assert [round(f.score, 2) for f in top] == [0.9, 0.7]


def test_batch_equals_one_face_at_a_time(age_gender, emotions):
    frame, boxes = sample_frames.compose_frame(4, face_px=(70, 150), seed=2)
    crops = [tuple(int(v) for v in box) for box in boxes]
    batched_ag = age_gender.run(frame, crops)
    batched_em = emotions.run(frame, crops)
    assert len(batched_ag) == len(batched_em) == 4
    for i, crop in enumerate(crops):
        single_ag, = age_gender.run(frame, [crop])
        single_em, = emotions.run(frame, [crop])
        assert abs(single_ag['age'] - batched_ag[i]['age']) < 0.05
        assert np.allclose(single_ag['gender'], batched_ag[i]['gender'], atol=1e-3)
        assert np.allclose(single_em['emotion'], batched_em[i]['emotion'], atol=1e-3)
    assert age_gender.run(frame, []) == []


def test_attributes_match_the_float_host_path(age_gender, emotions, reference):
    frame = sample_frames.astronaut()
    box = reference.detect(frame)[0]['box']
    expected = reference.attributes(frame, box)
    crop = tuple(int(v) for v in box)
    ours, = age_gender.run(frame, [crop])
    emotion, = emotions.run(frame, [crop])
    assert abs(ours['age'] - expected['age']) <= 1.0
    assert np.allclose(ours['gender'], expected['gender'], atol=0.02)
    assert np.allclose(emotion['emotion'], expected['emotion'], atol=0.02)


@pytest.mark.parametrize('names', [('angle_y_fc', 'angle_p_fc', 'angle_r_fc'),
                                   ('fc_y', 'fc_p', 'fc_r')])
def test_head_pose_outputs_bound_by_either_release_name(model_dir, tmp_path, names):
    """The 2022.3 files name each output both ways; keep one name only, as a release would."""
    xml = _copy_model(model_dir, HEAD_POSE_FILE, tmp_path)
    text = xml.read_text()
    for angle, name in zip('ypr', names):
        both = f'names="angle_{angle}_fc,fc_{angle}"'
        assert both in text
        text = text.replace(both, f'names="{name}"')
    xml.write_text(text)
    renamed, original = HeadPoseModel(xml), HeadPoseModel(model_dir / HEAD_POSE_FILE)
    frame = sample_frames.astronaut()
    crop = [(165, 49, 285, 189)]
    assert renamed.run(frame, crop) == original.run(frame, crop)
    yaw, pitch, roll = renamed.run(frame, crop)[0]['head_pose']
    assert abs(yaw) < 10 and abs(roll) < 10


def test_landmarks_single_face_equals_the_same_face_in_a_batch(model_dir):
    """A dynamic batch of one is wrong for this model in OpenVINO 2026 (LandmarksModel)."""
    landmarks = LandmarksModel(model_dir / LANDMARKS_FILE)
    frame, boxes = sample_frames.compose_frame(3, face_px=(80, 150), seed=4)
    crops = [tuple(int(v) for v in box) for box in boxes]
    batched = landmarks.run(frame, crops)
    for crop, together in zip(crops, batched):
        alone, = landmarks.run(frame, [crop])
        assert np.allclose(alone['landmarks'], together['landmarks'], atol=0.01)


def test_async_gives_the_same_result_as_sync(detector):
    frame = sample_frames.astronaut()
    inputs = detector.preprocess(frame)
    sync = detector.infer(inputs)
    detector.start_async(inputs)
    with pytest.raises(RuntimeError, match='twice'):
        detector.start_async(inputs)
    with pytest.raises(RuntimeError, match='not waited for'):
        detector.infer(inputs)
    result = detector.wait()
    assert np.array_equal(sync[detector.output_name], result[detector.output_name])
    with pytest.raises(RuntimeError, match='without start_async'):
        detector.wait()


def test_check_frame_accepts_bgr_and_gray_only():
    gray = np.full((10, 12), 7, np.uint8)
    assert check_frame(gray).shape == (10, 12, 3)
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    assert check_frame(bgr) is bgr
    for bad in (np.zeros((10, 12, 3), np.float32), np.zeros((10, 12, 4), np.uint8),
                np.zeros((0, 12, 3), np.uint8), [[0, 1]]):
        with pytest.raises(ValueError, match='HxWx3|uint8|numpy'):
            check_frame(bad)
