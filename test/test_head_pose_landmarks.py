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
Head pose and landmarks on the real models: against the raw OMZ models, and metamorphic checks.

Reference: test/reference.py runs the raw OMZ files one face at a time (cv2.resize of the crop,
float32 NCHW, no PrePostProcessor) on the same crops as the pipeline (the squared roi_scale
crop for head pose, the detector's box for landmarks). Tolerances are what the issue asks for
(1 degree, 1 px); the measured difference is 0.0 on every face of these frames. The mirror and
rotation tolerances below are measured maxima plus a margin.
"""

import json
from pathlib import Path

import cv2
from facesense_ros import sample_frames
from facesense_ros.config import PipelineConfig
from facesense_ros.face import Face, LANDMARK_NAMES
from facesense_ros.models import usable_cpus
from facesense_ros.pipeline import FacePipeline
import numpy as np
import pytest
from reference import ReferenceFaceGeometry, square_crop
from test_pipeline import FRAMES as PIPELINE_FRAMES

ANGLE_TOLERANCE_DEG = 1.0
POINT_TOLERANCE_PX = 1.0
# Mirroring: yaw and roll change sign, pitch stays, points mirror with left and right swapped.
# The model is not exactly symmetric, less so for turned heads. Measured over 23 faces of
# 62 px and more (these frames and six more 4-face frames), maxima of |yaw + mirrored yaw|,
# |roll + mirrored roll|, |pitch - mirrored pitch| in degrees and of the point distance as a
# fraction of the face's shorter side: 2.8, 4.2, 5.5, 0.022 for the 15 faces with |yaw| < 30;
# 7.6, 13.4, 8.8, 0.097 for the 8 turned ones. Tolerances: those plus a margin.
TURNED_YAW_DEG = 30.0
MIRROR_TOLERANCES = {False: (4.0, 6.0, 8.0, 0.04), True: (10.0, 16.0, 12.0, 0.13)}
# The astronaut turned +15 degrees in the image (counter-clockwise as displayed, OpenCV's
# positive angle) about her face's center: roll moves by -12.3 (and by +13.2 for -15 degrees).
ROTATION_DEG = 15.0
ROTATION_TOLERANCE_DEG = 4.0
# Every model on every face that the models' own input sizes allow.
ALL_ON = PipelineConfig(head_pose=True, landmarks=True, min_face_size_head_pose=0,
                        min_face_size_landmarks=0)
FRAMES = {
    'astronaut': sample_frames.astronaut,
    'camera': lambda: sample_frames.photo('camera'),
    'four_faces': lambda: sample_frames.compose_frame(4, seed=2)[0],
    'five_small_faces': lambda: sample_frames.compose_frame(5, face_px=(64, 110), seed=3)[0],
    'hd_two_faces': lambda: sample_frames.compose_frame(2, size=(1280, 720), seed=7)[0],
}
BEFORE_REFACTOR = Path(__file__).parent / 'data' / 'attributes_before_refactor.json'


@pytest.fixture(scope='module')
def pipeline(model_dir):
    return FacePipeline(ALL_ON, model_dir=model_dir)


@pytest.fixture(scope='module')
def reference(model_dir):
    return ReferenceFaceGeometry(model_dir)


def _mirrored(face, width):
    return Face(width - face.x_max, face.y_min, width - face.x_min, face.y_max, face.score)


@pytest.mark.parametrize('name', sorted(FRAMES))
def test_head_pose_and_landmarks_match_the_raw_models(pipeline, reference, name):
    frame = FRAMES[name]()
    faces = pipeline.process(frame)
    assert faces
    size = (frame.shape[1], frame.shape[0])
    for face in faces:
        angles = reference.angles(frame, square_crop(face.box, ALL_ON.roi_scale, size))
        assert np.allclose(face.head_pose, angles, atol=ANGLE_TOLERANCE_DEG), (face, angles)
        points = reference.points(frame, tuple(int(v) for v in face.box))
        assert np.allclose(face.landmarks, points, atol=POINT_TOLERANCE_PX), (face, points)


@pytest.mark.parametrize('name', sorted(FRAMES))
def test_mirror_flips_yaw_roll_and_swaps_left_and_right(pipeline, name):
    frame = FRAMES[name]()
    width = frame.shape[1]
    faces = [f for f in pipeline.detect(frame) if min(f.width, f.height) >= 62]
    assert faces
    original = pipeline.attributes(frame, faces)
    mirrored = pipeline.attributes(np.ascontiguousarray(frame[:, ::-1]),
                                   [_mirrored(f, width) for f in faces])
    swap = [LANDMARK_NAMES.index(n.replace('left', 'tmp').replace('right', 'left')
                                 .replace('tmp', 'right')) for n in LANDMARK_NAMES]
    assert swap == [1, 0, 2, 4, 3]
    for a, m in zip(original, mirrored):
        (yaw, pitch, roll), (m_yaw, m_pitch, m_roll) = a.head_pose, m.head_pose
        turned = abs(yaw) >= TURNED_YAW_DEG
        yaw_tol, roll_tol, pitch_tol, point_tol = MIRROR_TOLERANCES[turned]
        poses = (a.head_pose, m.head_pose)
        assert abs(yaw + m_yaw) <= yaw_tol and abs(roll + m_roll) <= roll_tol, poses
        assert abs(pitch - m_pitch) <= pitch_tol, poses
        if turned:
            assert np.sign(yaw) == -np.sign(m_yaw), poses
        back = np.array(m.landmarks)[swap]
        back[:, 0] = width - back[:, 0]
        tolerance = point_tol * min(a.width, a.height)
        assert np.abs(back - a.landmarks).max() <= tolerance, (a.landmarks, m.landmarks)


@pytest.mark.parametrize('angle', [ROTATION_DEG, -ROTATION_DEG])
def test_in_plane_rotation_moves_roll(pipeline, angle):
    frame = sample_frames.astronaut()
    face, = pipeline.detect(frame)
    before, = pipeline.attributes(frame, [face])
    turn = cv2.getRotationMatrix2D(face.center, angle, 1.0)
    rotated = cv2.warpAffine(frame, turn, (frame.shape[1], frame.shape[0]),
                             borderMode=cv2.BORDER_REFLECT)
    after, = pipeline.attributes(rotated, [face])
    moved = after.head_pose[2] - before.head_pose[2]
    # OpenCV's positive angle turns the image counter-clockwise: roll goes down by as much.
    assert abs(moved + angle) <= ROTATION_TOLERANCE_DEG, (before.head_pose, after.head_pose)
    # The landmarks turn with the face: the eye line tilts by the same angle.
    eyes = np.array(after.landmarks[:2])
    tilt = np.degrees(np.arctan2(eyes[1, 1] - eyes[0, 1], eyes[1, 0] - eyes[0, 0]))
    eyes0 = np.array(before.landmarks[:2])
    tilt0 = np.degrees(np.arctan2(eyes0[1, 1] - eyes0[0, 1], eyes0[1, 0] - eyes0[0, 0]))
    assert abs((tilt - tilt0) + angle) <= ROTATION_TOLERANCE_DEG


@pytest.mark.parametrize('name', sorted(FRAMES))
def test_points_inside_the_box_eyes_above_nose_above_mouth(pipeline, name):
    for face in pipeline.process(FRAMES[name]()):
        if min(face.width, face.height) < 62:
            continue
        points = dict(zip(LANDMARK_NAMES, face.landmarks))
        for x, y in face.landmarks:
            assert face.x_min <= x <= face.x_max and face.y_min <= y <= face.y_max, face
        nose_y = points['nose_tip'][1]
        assert max(points['right_eye'][1], points['left_eye'][1]) < nose_y, face
        assert nose_y < min(points['right_mouth_corner'][1], points['left_mouth_corner'][1])
        # The person's right eye is on the image's left for every face here (all look at the
        # camera or turn less than 90 degrees).
        assert points['right_eye'][0] < points['left_eye'][0], face
        assert points['right_mouth_corner'][0] < points['left_mouth_corner'][0], face


def test_none_when_off_or_too_small(model_dir, pipeline):
    frame = FRAMES['five_small_faces']()
    off = FacePipeline(PipelineConfig(head_pose=False, landmarks=False), model_dir=model_dir)
    assert set(off.attribute_models) == {'age_gender', 'emotions'}
    assert all(f.head_pose is None and f.landmarks is None for f in off.process(frame))
    default_sizes = PipelineConfig(head_pose=True, landmarks=True)
    pipeline.update(default_sizes)
    try:
        faces = pipeline.process(frame)
    finally:
        pipeline.update(ALL_ON)
    assert any(min(f.width, f.height) < 60 for f in faces)
    for face in faces:
        size = min(face.width, face.height)
        assert (face.head_pose is None) == (size < default_sizes.min_face_size_head_pose)
        assert (face.landmarks is None) == (size < default_sizes.min_face_size_landmarks)


def _age_gender_emotion(faces):
    return [[list(f.box), f.score, f.age, list(f.gender) if f.gender else None,
             list(f.emotion) if f.emotion else None] for f in faces]


# The processor model test/data/attributes_before_refactor.json was written on. OpenVINO's CPU
# kernels differ between processor models: on an Intel Xeon a detector box moved by 1.1 px,
# which moved the astronaut's INT8 age by 3 years and P(female) from 0.86 to 0.64. On other
# processors only what does not depend on the kernels is compared with the file.
REFERENCE_CPU = 'AMD EPYC'


def _cpu_model() -> str:
    try:
        text = Path('/proc/cpuinfo').read_text()
    except OSError:
        return ''
    return next((line.split(':', 1)[1].strip() for line in text.splitlines()
                 if line.startswith('model name')), '')


def test_age_gender_emotions_unchanged_by_the_refactor_and_the_new_models(model_dir):
    """
    Age, gender, emotion: the values the code before the attribute-model table gave.

    test/data/attributes_before_refactor.json was written by that code (commit 04d1c22) on a
    2-core REFERENCE_CPU machine, where OpenVINO's results are bit-identical: compared exactly
    there. On another processor model only the faces found, their boxes (within 2 px) and
    which attributes are present are compared. Within one run, turning head pose and landmarks
    on changes nothing, on any machine.
    """
    expected = json.loads(BEFORE_REFACTOR.read_text())
    exact = usable_cpus() == 2 and REFERENCE_CPU in _cpu_model()
    configs = {'default': {}, 'tight': {'roi_scale': 1.0}}
    for label, options in configs.items():
        two = FacePipeline(PipelineConfig(head_pose=False, landmarks=False, **options),
                           model_dir=model_dir)
        four = FacePipeline(PipelineConfig(head_pose=True, landmarks=True, **options),
                            model_dir=model_dir)
        for name, make in PIPELINE_FRAMES.items():
            frame = make()
            ours = _age_gender_emotion(two.process(frame))
            assert _age_gender_emotion(four.process(frame)) == ours, name
            before = expected[f'{label}/{name}']
            if exact:
                assert ours == before, (label, name)
                continue
            assert len(ours) == len(before), (label, name)
            for a, b in zip(ours, before):
                assert np.allclose(a[0], b[0], atol=2.0), (label, name)
                assert [v is None for v in a[2:]] == [v is None for v in b[2:]], (label, name)
