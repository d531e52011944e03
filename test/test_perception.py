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
FacePerception with the real models on sample_frames' moving sequence.

Ids from what the real detector finds (with real occlusions painted over faces), smoothing
measured on the real attribute models' output, attribute scheduling counted.
"""

from concurrent.futures import ThreadPoolExecutor
import threading

import cv2
from facesense_ros import sample_frames
from facesense_ros.config import PipelineConfig, TrackingConfig
from facesense_ros.drawing import annotate, hide_faces
from facesense_ros.perception import FacePerception
from facesense_ros.pipeline import FacePipeline
from facesense_ros.tracking import iou
import numpy as np
import pytest
from test_tracking import check_identities, FPS, MISSED, N_FRAMES, N_PEOPLE

# A detection belongs to the ground-truth person whose box it overlaps at least this much
# (the detector's box of a 90 px face differs from the pasted box by a few pixels).
GROUND_TRUTH_IOU = 0.4
# Occluders are painted over this much more than the face box, so that no hair or chin is
# left for the detector.
OCCLUDER_SCALE = 1.4
# The first frames of the sequence, in which every face is whole (person 1 reaches the left
# border at frame 30): with these every face can get every attribute.
WHOLE_FACE_FRAMES = 30
# Minimum face sizes for the scheduling test: the detector's boxes of the 90 px faces are
# 58..72 px wide, around the default 62/64 px limits; lower limits give every face every
# attribute so that "attributes on every frame" is a fair check.
SMALL_FACES = 32
# A face the detector missed, hidden at its track's predicted box, must change at least this
# fraction as much as when it is hidden at its detected box (the prediction is a few pixels
# off, so a strip at the border may stay visible).
MISSED_PRIVACY = 0.8


@pytest.fixture(scope='module')
def sequence():
    return sample_frames.moving_sequence(N_FRAMES, N_PEOPLE)


@pytest.fixture(scope='module')
def pipeline(model_dir):
    return FacePipeline(PipelineConfig(), model_dir=model_dir, download_missing=False)


def _person_of(face, people):
    """Return the ground-truth person of a detected face, or None."""
    best = max(people, key=lambda p: iou(p[1], face.box), default=None)
    if best is None or iou(best[1], face.box) < GROUND_TRUTH_IOU:
        return None
    return best[0]


def _occlude(frame, box):
    """Paint a flat grey occluder over a face (a hand, a passer-by) on a copy of the frame."""
    frame = frame.copy()
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    half_w = (box[2] - box[0]) * OCCLUDER_SCALE / 2.0
    half_h = (box[3] - box[1]) * OCCLUDER_SCALE / 2.0
    x0, y0 = max(0, int(cx - half_w)), max(0, int(cy - half_h))
    x1, y1 = int(cx + half_w) + 1, int(cy + half_h) + 1
    frame[y0:y1, x0:x1] = 128
    return frame


def run(perception, sequence, missed=(), frames=None):
    """Process the sequence; return per frame a list of (person or None, face)."""
    out = []
    for index, (frame, people) in enumerate(sequence[:frames]):
        for person, first, last in missed:
            for p, box in people:
                if p == person and first <= index <= last:
                    frame = _occlude(frame, box)
        visible = [(p, b) for p, b in people
                   if not any(p == q and a <= index <= z for q, a, z in missed)]
        faces = perception.process(frame, index / FPS)
        out.append([(_person_of(f, visible), f) for f in faces])
    return out


def test_ids_from_the_real_detector(pipeline, sequence):
    perception = FacePerception(pipeline, TrackingConfig())
    results = run(perception, sequence, missed=MISSED)
    ids = {}
    for index, faces in enumerate(results):
        persons = [p for p, _ in faces if p is not None]
        assert len(persons) == len(set(persons)), f'frame {index}: a person detected twice'
        ids[index] = {p: f.track_id for p, f in faces if p is not None}
        for person, first, last in MISSED:
            if first <= index <= last:
                assert person not in ids[index], f'frame {index}: occluded face detected'
    # The detector finds every whole face: the sequence really exercises the tracker.
    assert all(len(ids[i]) == N_PEOPLE for i in range(3))
    story = check_identities(ids)
    print(f'ids per person from the real detector: {story}')


def _jitter(results):
    """Mean frame-to-frame change of age and emotion of each person's track, over the run."""
    previous = {}
    age_steps, emotion_steps, gender_steps = [], [], []
    for faces in results:
        current = {p: f for p, f in faces if p is not None}
        for person, face in current.items():
            before = previous.get(person)
            if before is None or before.track_id != face.track_id:
                continue
            if face.age is not None and before.age is not None:
                age_steps.append(abs(face.age - before.age))
            if face.emotion is not None and before.emotion is not None:
                emotion_steps.append(np.abs(np.subtract(face.emotion, before.emotion)).sum())
            if face.gender is not None and before.gender is not None:
                gender_steps.append(abs(face.gender[0] - before.gender[0]))
        previous = current
    # Faces under a model's minimum have its attributes absent (not held): fewer pairs than
    # face-frames, still enough for a mean (93 and 57 of the 3 people's 60 frames).
    assert len(age_steps) > N_FRAMES / 2 and len(emotion_steps) > N_FRAMES / 2
    return float(np.mean(age_steps)), float(np.mean(emotion_steps)), float(np.mean(gender_steps))


def test_smoothing_reduces_jitter(pipeline, sequence):
    raw = run(FacePerception(pipeline, TrackingConfig(smoothing=False)), sequence)
    smoothed = run(FacePerception(pipeline, TrackingConfig(smoothing=True)), sequence)
    raw_age, raw_emotion, raw_gender = _jitter(raw)
    age, emotion, gender = _jitter(smoothed)
    print(f'mean frame-to-frame change, raw -> smoothed: age {raw_age:.2f} -> {age:.2f} years, '
          f'emotion (L1) {raw_emotion:.4f} -> {emotion:.4f}, '
          f'P(female) {raw_gender:.4f} -> {gender:.4f}')
    assert age < raw_age
    assert emotion < raw_emotion
    for faces in smoothed:
        for _, face in faces:
            for probabilities in (face.gender, face.emotion):
                if probabilities is not None:
                    assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)
    # Same detections either way: smoothing touches attributes, never ids or boxes.
    assert [[(p, f.track_id, f.box) for p, f in faces] for faces in raw] == \
        [[(p, f.track_id, f.box) for p, f in faces] for faces in smoothed]


def _geometry_jitter(result):
    """Mean frame-to-frame change per track: head pose (degrees), landmarks (% of the box)."""
    last, pose, points = {}, [], []
    for faces in result:
        for _, face in faces:
            if face.head_pose is None or face.landmarks is None:
                continue
            relative = ((np.array(face.landmarks) - face.box[:2])
                        / (face.width, face.height) * 100.0)
            if face.track_id in last:
                old_pose, old_points = last[face.track_id]
                pose.append(np.abs(np.array(face.head_pose) - old_pose).mean())
                points.append(np.abs(relative - old_points).mean())
            last[face.track_id] = (np.array(face.head_pose), relative)
    return float(np.mean(pose)), float(np.mean(points))


def test_head_pose_and_landmarks_tracked_and_smoothed(model_dir, sequence):
    pipeline = FacePipeline(PipelineConfig(head_pose=True, landmarks=True), model_dir=model_dir,
                            download_missing=False)
    raw = run(FacePerception(pipeline, TrackingConfig(smoothing=False)), sequence)
    smoothed = run(FacePerception(pipeline, TrackingConfig()), sequence)
    raw_pose, raw_points = _geometry_jitter(raw)
    pose, points = _geometry_jitter(smoothed)
    print(f'mean frame-to-frame change, raw -> smoothed: head pose {raw_pose:.2f} -> '
          f'{pose:.2f} degrees, landmarks {raw_points:.2f} -> {points:.2f} % of the box')
    assert pose < raw_pose and points < raw_points
    for faces in smoothed:
        for _, face in faces:
            if min(face.width, face.height) < 62:
                continue
            # Every face of 62 px and more has both, smoothed points still inside its box
            # although the face moves by up to 13 px a frame.
            assert face.head_pose is not None and face.landmarks is not None, face
            for x, y in face.landmarks:
                assert face.x_min <= x <= face.x_max and face.y_min <= y <= face.y_max


def test_attribute_interval_runs_models_less_often(model_dir, sequence):
    config = PipelineConfig(min_face_size_age_gender=SMALL_FACES,
                            min_face_size_emotions=SMALL_FACES)
    pipeline = FacePipeline(config, model_dir=model_dir, download_missing=False)
    every = FacePerception(pipeline, TrackingConfig(attribute_interval=1))
    third = FacePerception(pipeline, TrackingConfig(attribute_interval=3))
    every_results = run(every, sequence, frames=WHOLE_FACE_FRAMES)
    third_results = run(third, sequence, frames=WHOLE_FACE_FRAMES)
    face_frames = sum(len(faces) for faces in every_results)
    print(f'attribute runs over {face_frames} face-frames: interval 1 -> '
          f'{every.attribute_runs}, interval 3 -> {third.attribute_runs}')
    assert every.attribute_runs == face_frames
    assert third.attribute_runs < every.attribute_runs / 2
    assert third.attribute_runs >= face_frames / 3
    for faces in third_results:
        for _, face in faces:
            assert None not in (face.age, face.gender, face.emotion), face
    assert [[f.track_id for _, f in faces] for faces in every_results] == \
        [[f.track_id for _, f in faces] for faces in third_results]


def test_tracking_off_is_the_plain_pipeline(pipeline, sequence):
    perception = FacePerception(pipeline, TrackingConfig(tracking=False))
    frame = sequence[0][0]
    faces = perception.process(frame, 0.0)
    plain = pipeline.process(frame)
    assert [f.track_id for f in faces] == list(range(len(plain)))
    assert [f.with_attributes(track_id=None) for f in faces] == plain
    assert perception.attribute_runs == len(plain) == N_PEOPLE
    assert {'detect', 'attributes', 'tracking'} <= set(perception.last_timings)


def test_live_changes(model_dir, pipeline, sequence):
    perception = FacePerception(pipeline, TrackingConfig(attribute_interval=1))
    first = perception.process(sequence[0][0], 0.0)
    assert all(f.age is not None for f in first)
    assert {'detect', 'attributes', 'tracking'} <= set(perception.last_timings)
    # New attribute models: ids stay, the old models' values do not linger.
    detector_only = FacePipeline(PipelineConfig(age_gender=False, emotions=False),
                                 model_dir=model_dir, download_missing=False)
    perception.set_pipeline(detector_only)
    second = perception.process(sequence[1][0], 1 / FPS)
    assert sorted(f.track_id for f in second) == sorted(f.track_id for f in first)
    assert all(f.age is None and f.gender is None and f.emotion is None for f in second)
    # Turning tracking off and on again: new ids, never an old one.
    perception.set_pipeline(pipeline)
    perception.update_tracking(TrackingConfig(tracking=False))
    assert [f.track_id for f in perception.process(sequence[2][0], 2 / FPS)] == [0, 1, 2]
    perception.update_tracking(TrackingConfig())
    third = perception.process(sequence[3][0], 3 / FPS)
    assert min(f.track_id for f in third) > max(f.track_id for f in first)


def test_updates_from_another_thread(pipeline, sequence):
    perception = FacePerception(pipeline, TrackingConfig())
    stop = threading.Event()

    def reconfigure():
        configs = (TrackingConfig(attribute_interval=2), TrackingConfig(smoothing=False),
                   TrackingConfig(track_timeout=0.5), TrackingConfig())
        count = 0
        while not stop.is_set():
            perception.update_tracking(configs[count % len(configs)])
            count += 1
        return count

    with ThreadPoolExecutor(max_workers=1) as executor:
        updates = executor.submit(reconfigure)
        try:
            results = run(perception, sequence, frames=10)
        finally:
            stop.set()
        # Re-raises here whatever the other thread raised.
        assert updates.result() > 0
    # The tracking settings changed under it, never the ids.
    ids = [sorted(f.track_id for _, f in faces) for faces in results]
    assert ids == [ids[0]] * len(ids)


def test_privacy_covers_faces_the_detector_missed(pipeline, sequence):
    perception = FacePerception(pipeline, TrackingConfig())
    for index in range(5):
        perception.process(sequence[index][0], index / FPS)
    frame, people = sequence[5]
    normal = pipeline.config
    # A real missed detection: this frame the detector reports only its best face.
    pipeline.update(PipelineConfig.from_dict({**normal.to_dict(), 'max_faces': 1}))
    try:
        faces = perception.process(frame, 5 / FPS)
    finally:
        pipeline.update(normal)
    assert len(faces) == 1
    missed = [(p, box) for p, box in people if p != _person_of(faces[0], people)]
    assert len(missed) == N_PEOPLE - 1 and len(perception.lost_boxes) == N_PEOPLE - 1
    for _, box in missed:
        assert max(iou(box, lost) for lost in perception.lost_boxes) > GROUND_TRUTH_IOU
    out = annotate(frame, faces, 'pixelate', hidden_boxes=perception.lost_boxes)
    exposed = annotate(frame, faces, 'pixelate')
    # The reference: the same frame hidden where the detector finds every face.
    reference = hide_faces(frame, pipeline.detect(frame), 'pixelate')
    for _, box in missed:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        face_pixels = frame[y0:y1, x0:x1].astype(np.int16)
        assert np.array_equal(exposed[y0:y1, x0:x1], frame[y0:y1, x0:x1]), 'already hidden?'
        change = np.abs(out[y0:y1, x0:x1] - face_pixels).mean()
        detected = np.abs(reference[y0:y1, x0:x1] - face_pixels).mean()
        print(f'missed face {x1 - x0}x{y1 - y0} px: mean change {change:.1f} hidden at its '
              f'lost box, {detected:.1f} hidden at its detection')
        assert change > MISSED_PRIVACY * detected


def test_many_faces_keep_their_ids(pipeline):
    # Six real faces, the camera shaking by up to 4 px: the detector's boxes jitter, ids stay.
    frame, boxes = sample_frames.compose_frame(6, size=(640, 480), face_px=(70, 120), seed=5)
    perception = FacePerception(pipeline, TrackingConfig())
    rng = np.random.default_rng(0)
    first = None
    for index in range(12):
        dx, dy = rng.uniform(-4.0, 4.0, size=2)
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        shaken = cv2.warpAffine(frame, shift, (640, 480), borderMode=cv2.BORDER_REPLICATE)
        moved = [(p, (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)) for p, b in enumerate(boxes)]
        faces = perception.process(shaken, index / FPS)
        ids = {_person_of(f, moved): f.track_id for f in faces}
        assert None not in ids and len(ids) == len(boxes), f'frame {index}: {ids}'
        first = first or ids
        assert ids == first, f'frame {index}: ids changed'


def _one_face(index, face_height, center=(320, 240)):
    """Return a frame with library face ``index`` (a real photo), ``face_height`` px high."""
    frame = sample_frames.compose_frame(0)[0]
    patch, box = sample_frames._scaled_face(index, face_height)
    left = int(round(center[0] - (box[0] + box[2]) / 2.0))
    top = int(round(center[1] - (box[1] + box[3]) / 2.0))
    sample_frames._paste(frame, patch, left, top)
    return frame


@pytest.mark.parametrize('smoothing', [True, False])
def test_another_person_in_the_place_inherits_nothing(pipeline, smoothing):
    """The astronaut (76 px wide) and 0.1 s later the cameraman (56 px) at the same place."""
    perception = FacePerception(pipeline, TrackingConfig(smoothing=smoothing))
    [first] = perception.process(_one_face(0, 100), 0.0)
    [second] = perception.process(_one_face(1, 82), 0.1)
    print(f'{first.width:.1f} px {first.gender_label} {first.age:.0f} {first.emotion_label}; '
          f'then {second.width:.1f} px, id {first.track_id} -> {second.track_id}')
    assert first.width >= 64 and first.age is not None and first.emotion is not None
    assert second.width < 62 and iou(first.box, second.box) > 0.5
    assert second.track_id != first.track_id
    assert (second.age, second.gender, second.emotion) == (None, None, None)
    # The landmarks (minimum 48 px) are this face's own measurement.
    own = pipeline.attributes(_one_face(1, 82), [second])[0]
    assert second.landmarks is not None and np.allclose(second.landmarks, own.landmarks)


def test_a_face_walking_away_loses_its_attributes_under_the_minimums(pipeline):
    perception = FacePerception(pipeline, TrackingConfig(attribute_interval=3))
    ids, widths = set(), []
    for index, height in enumerate(np.linspace(100, 60, 16)):
        [face] = perception.process(_one_face(0, float(height)), index / 30.0)
        ids.add(face.track_id)
        widths.append(face.width)
        assert (face.age is not None) == (face.width >= 62), (face.width, face.age)
        assert (face.emotion is not None) == (face.width >= 64), (face.width, face.emotion)
        assert (face.landmarks is not None) == (face.width >= 48), (face.width, face.landmarks)
    assert len(ids) == 1
    assert max(widths) >= 64 > 62 > 48 > min(widths)


def test_a_folder_of_unrelated_photos_passes_nothing_on(pipeline):
    """image_source over a folder: the astronaut, then 0.1 s later the cameraman (62.6 px)."""
    perception = FacePerception(pipeline, TrackingConfig())
    [astronaut] = perception.process(sample_frames.photo('astronaut'), 0.0)
    [cameraman] = perception.process(sample_frames.photo('camera'), 0.1)
    print(f'astronaut {astronaut.width:.1f} px {astronaut.emotion_label}, cameraman '
          f'{cameraman.width:.1f} px {cameraman.emotion_label}')
    assert astronaut.emotion is not None
    assert cameraman.track_id != astronaut.track_id
    # Under the emotions minimum (64 px): no emotion, neither its own nor the astronaut's.
    assert min(cameraman.width, cameraman.height) < 64 and cameraman.emotion is None
