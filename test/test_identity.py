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
Identity without ROS: the re-identification model, per-track identities and the gallery.

Real model, real photos (../shared/data/identities), the real SQLite gallery: leave-one-out
recognition, and frame sequences built from the photos in which people leave for longer than
the track timeout and come back moved, scaled and relit.
"""

from pathlib import Path
import time

import cv2
from facesense_ros.attributes import PERSON_ID_SCALE
from facesense_ros.config import PipelineConfig, TrackingConfig
from facesense_ros.conversions import detection_to_face_record, face_to_detection
from facesense_ros.face import Face
from facesense_ros.gallery import Gallery
from facesense_ros.identity import (confidence_from_similarity, EARLY_EMBEDDINGS, Identity,
                                    nose_offset, photo_faces, sharpness)
from facesense_ros.model_store import ModelError
from facesense_ros.models import FaceReidModel, REID_REFERENCE_POINTS, similarity_transform
from facesense_ros.perception import FacePerception
from facesense_ros.pipeline import FacePipeline
from facesense_ros.sample_frames import compose_frame, cut_face, paste_face
import numpy as np
import pytest
from std_msgs.msg import Header

IDENTITIES = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'identities'
PEOPLE = ('obama', 'biden', 'kit_harington', 'rose_leslie', 'alex_lacamoire',
          'lin_manuel_miranda')
# Who is in each group photo, left to right (the data's README).
GROUPS = {
    'obama_biden_1': ('obama', 'biden'),
    'obama_biden_unknown_2': ('biden', 'obama', None),
    'kit_harington_rose_leslie': ('rose_leslie', 'kit_harington'),
}
FPS = 30.0
# The node's default (config/facesense.yaml).
TRACK_TIMEOUT = 1.0
# A new person's id within this many frames of the face appearing (0.5 s at 30 fps).
ID_WITHIN_FRAMES = 15


def _photos():
    if not IDENTITIES.is_dir():
        pytest.fail(f'identity photos missing: {IDENTITIES} (see ../shared/data/identities)')
    return sorted(p for p in IDENTITIES.glob('*/*') if p.suffix in ('.jpg', '.png'))


@pytest.fixture(scope='module')
def pipeline(model_dir):
    return FacePipeline(PipelineConfig(age_gender=False, emotions=False, landmarks=True,
                                       identity=True), model_dir=model_dir,
                        download_missing=False)


@pytest.fixture(scope='module')
def labelled(pipeline):
    """[(person or None, source, embedding)] of every face of every identity photo."""
    faces = []
    for path in _photos():
        found = photo_faces(pipeline, pipeline.identity_model, cv2.imread(str(path)))
        if path.parent.name == 'groups':
            people = GROUPS[path.stem]
            assert len(found) == len(people), path
            faces += [(p, f'{path.stem}[{i}]', e)
                      for i, (p, (_, e)) in enumerate(zip(people, found))]
        else:
            assert found, f'no face in {path}'
            _, embedding = max(found, key=lambda fe: fe[0].width)
            faces.append((path.parent.name, str(path.relative_to(IDENTITIES)), embedding))
    assert {p for p, _, _ in faces} == set(PEOPLE) | {None}
    return faces


def test_reid_model_is_checked_and_gives_unit_embeddings(pipeline, model_dir):
    model = pipeline.identity_model
    assert model.precision == 'FP16' and (model.input_width, model.input_height) == (128, 128)
    photo = cv2.imread(str(IDENTITIES / 'groups' / 'obama_biden_1.jpg'))
    faces = pipeline.process(photo)
    one = model.embed(photo, [faces[0].landmarks])
    both = model.embed(photo, [f.landmarks for f in faces])
    assert both.shape == (2, 256) and both.dtype == np.float32
    assert np.allclose(np.linalg.norm(both, axis=1), 1.0, atol=1e-5)
    # A batch of one gives what the same face gives in a batch of two.
    assert float(one[0] @ both[0]) > 0.999
    # The landmarks model is not a re-identification model: refused at load, naming it.
    landmarks = next(model_dir.glob('intel/landmarks-regression-retail-0009/FP16/*.xml'))
    with pytest.raises(ModelError, match='landmarks-regression.*not a face '
                                         're-identification model'):
        FaceReidModel(landmarks)


def test_identity_needs_landmarks(model_dir):
    with pytest.raises(ModelError, match='identity: true needs landmarks: true'):
        FacePipeline(PipelineConfig(landmarks=False, identity=True), model_dir=model_dir,
                     download_missing=False)
    # Off by default: the model is not even loaded.
    assert FacePipeline(PipelineConfig(), model_dir=model_dir,
                        download_missing=False).identity_model is None


def test_alignment_puts_the_landmarks_on_the_reference_points():
    rng = np.random.default_rng(3)
    reference = REID_REFERENCE_POINTS * 128.0
    angle, scale, shift = 0.3, 2.5, np.array([40.0, -7.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = (reference - 64.0) @ rotation.T * scale + 64.0 + shift
    matrix = similarity_transform(points + rng.normal(0, 0.01, points.shape), reference)
    mapped = np.hstack([points, np.ones((5, 1))]) @ matrix.T
    assert np.allclose(mapped, reference, atol=0.05)
    with pytest.raises(ValueError, match='coincide'):
        similarity_transform(np.ones((5, 2)), reference)


def test_confidence_mapping():
    threshold = 0.4
    assert confidence_from_similarity(threshold, threshold) == pytest.approx(0.5)
    assert confidence_from_similarity(1.0, threshold) == pytest.approx(1.0)
    assert confidence_from_similarity(-1.0, threshold) == pytest.approx(0.0)
    values = [confidence_from_similarity(s, threshold) for s in np.linspace(-1, 1, 41)]
    assert values == sorted(values) and all(0.0 <= v <= 1.0 for v in values)
    assert confidence_from_similarity(0.39, threshold) < 0.5 <= confidence_from_similarity(
        0.41, threshold)


def test_identity_record_is_validated_and_travels_in_detections():
    with pytest.raises(ValueError, match='person_id'):
        Identity(0, None, 0.5)
    with pytest.raises(ValueError, match='confidence'):
        Identity(3, None, 1.5)
    with pytest.raises(ValueError, match='identity must be'):
        Face(1.0, 2.0, 30.0, 40.0, 0.9, identity='obama')
    for person_id in (1, 17, 2 ** 31 + 5, 2 ** 32 - 1):
        face = Face(1.0, 2.0, 30.0, 40.0, 0.9, track_id=4,
                    identity=Identity(person_id, 'Ada', 0.75))
        record = detection_to_face_record(face_to_detection(face, Header()))
        assert record.identity == Identity(person_id, 'Ada', 0.75)
        labels = record.labels
        assert labels['identity:name:Ada'] == labels['identity:person'] == 0.75
        assert 0.0 <= labels['identity:person_id'] < 1.0
        assert labels['identity:person_id'] * PERSON_ID_SCALE == person_id


def test_quality_measures_on_real_photos(pipeline):
    photo = cv2.imread(str(IDENTITIES / 'obama' / '1.jpg'))
    face = max(pipeline.process(photo), key=lambda f: f.width)
    aligned = pipeline.identity_model.align(photo, face.landmarks)
    blurred = cv2.GaussianBlur(aligned, (9, 9), 4)
    assert sharpness(aligned) > 10 * sharpness(blurred)
    assert nose_offset(face.landmarks) < 0.1
    # A face turned aside: the nose tip near one eye.
    turned = np.array(face.landmarks)
    turned[2, 0] = turned[1, 0]
    assert nose_offset(turned) > 0.4


def test_leave_one_out_on_the_identity_photos(labelled, tmp_path):
    """Every photo of an enrolled person matches them; no other photo matches anyone."""
    threshold = TrackingConfig().identity_threshold
    for held_out, (person, source, embedding) in enumerate(labelled):
        path = tmp_path / f'loo_{held_out}.db'
        gallery = Gallery(str(path), create=True)
        try:
            ids = {}
            for name in PEOPLE:
                others = [e for i, (p, _, e) in enumerate(labelled)
                          if p == name and i != held_out]
                if others:
                    ids[gallery.add_person(others, name=name)] = name
            match = gallery.match(embedding)
            matched = ids.get(match.person_id) if match and match.similarity >= threshold \
                else None
            enrolled = person in ids.values()
            assert matched == (person if enrolled else None), (source, match)
        finally:
            gallery.close()


def _crop(pipeline, relative):
    photo = cv2.imread(str(IDENTITIES / relative))
    face = max(pipeline.detect(photo), key=lambda f: f.width)
    return cut_face(photo, face.box)


def _render(placements):
    """Return a 640x480 frame with each (crop, height, center, contrast, brightness) pasted."""
    frame, _ = compose_frame(0, (640, 480))
    for (crop, box), height, center, contrast, brightness in placements:
        paste_face(frame, crop, box, height, center, contrast, brightness)
    return frame


def _run(perception, frames, start=0):
    """Process (placements) frames at FPS from frame ``start``; return each frame's faces."""
    return [perception.process(_render(placements), (start + i) / FPS)
            for i, placements in enumerate(frames)]


def _person_at(faces, x_range):
    [face] = [f for f in faces if x_range[0] <= f.center[0] < x_range[1]]
    return face


def test_people_coming_back_get_their_person_ids_back(pipeline, tmp_path):
    obama, biden = _crop(pipeline, 'obama/1.jpg'), _crop(pipeline, 'biden/2.jpg')
    kit = _crop(pipeline, 'kit_harington/1.jpg')
    gallery = Gallery(str(tmp_path / 'faces.db'), create=True)
    perception = FacePerception(pipeline, TrackingConfig(), gallery=gallery)
    first = [[(obama, 140, (170, 240), 1.0, 0.0), (biden, 140, (470, 240), 1.0, 0.0)]] * 20
    # Away for 1.5 track timeouts: every track retires.
    away = [[]] * int(1.5 * TRACK_TIMEOUT * FPS)
    # Back on the other side, smaller and larger, darker and brighter; a third person too.
    back = [[(obama, 100, (480, 200), 0.7, 30.0), (biden, 180, (180, 260), 1.2, -20.0),
             (kit, 120, (330, 380), 0.9, 10.0)]] * 20
    try:
        result = _run(perception, first + away + back)
        # A new person's id within 0.5 s (at 30 fps) of appearing.
        early = result[ID_WITHIN_FRAMES - 1]
        assert len(early) == 2 and all(f.identity is not None for f in early)
        before = {'obama': _person_at(result[19], (0, 320)).identity.person_id,
                  'biden': _person_at(result[19], (320, 640)).identity.person_id}
        assert before['obama'] != before['biden']
        assert all(result[i] == [] for i in range(20, 20 + len(away)))
        returned = 20 + len(away)
        late = result[returned + ID_WITHIN_FRAMES - 1]
        assert {f.track_id for f in late}.isdisjoint(
            {f.track_id for f in result[19]}), 'the tracks must have retired'
        after = {'obama': _person_at(late, (400, 640)).identity.person_id,
                 'biden': _person_at(late, (0, 260)).identity.person_id,
                 'kit': _person_at(late, (260, 400)).identity.person_id}
        assert after['obama'] == before['obama'] and after['biden'] == before['biden']
        assert len(set(after.values())) == 3, 'two people share a person id'
        # Each frame: never one person id on two faces.
        for faces in result:
            ids = [f.identity.person_id for f in faces if f.identity is not None]
            assert len(ids) == len(set(ids))
        # The gallery holds three persons, learnt from a few frames each.
        assert len(gallery.persons()) == 3
        tracker = perception.identity
        assert tracker.embeddings_computed <= 5 * EARLY_EMBEDDINGS + 6
    finally:
        gallery.close()


def test_learning_off_leaves_strangers_unknown_and_names_the_enrolled(pipeline, tmp_path):
    obama, rose = _crop(pipeline, 'obama/1.jpg'), _crop(pipeline, 'rose_leslie/1.jpg')
    gallery = Gallery(str(tmp_path / 'faces.db'), create=True)
    photo = cv2.imread(str(IDENTITIES / 'obama' / '2.jpg'))
    [(_, enrolled)] = photo_faces(pipeline, pipeline.identity_model, photo)
    obama_id = gallery.add_person([enrolled], name='Barack Obama')
    config = TrackingConfig(identity_learn=False)
    perception = FacePerception(pipeline, config, gallery=gallery)
    try:
        both = [[(obama, 150, (170, 240), 1.0, 0.0), (rose, 150, (470, 240), 1.0, 0.0)]]
        result = _run(perception, both * 10)
        named = _person_at(result[-1], (0, 320)).identity
        assert named.person_id == obama_id and named.name == 'Barack Obama'
        assert 0.5 <= named.confidence <= 1.0
        assert _person_at(result[-1], (320, 640)).identity is None
        assert [p.id for p in gallery.persons()] == [obama_id]
        # Renamed from outside (the CLI, another node) while he is in view: the new name
        # shows once the gallery is looked at again (every 0.5 s).
        with Gallery(str(tmp_path / 'faces.db'), create=False) as other:
            other.rename(obama_id, 'Barack H. Obama')
        time.sleep(0.6)
        result = _run(perception, both * 2, start=10)
        assert _person_at(result[-1], (0, 320)).identity.name == 'Barack H. Obama'
        assert perception.identity.embeddings_computed <= 2 * EARLY_EMBEDDINGS + 2
    finally:
        gallery.close()


def test_a_track_taken_over_by_another_person_drops_the_old_persons_values(
        pipeline, tmp_path):
    kit, rose = _crop(pipeline, 'kit_harington/1.jpg'), _crop(pipeline, 'rose_leslie/1.jpg')
    full = FacePipeline(PipelineConfig(landmarks=True, identity=True),
                        model_dir=pipeline.identity_model.path.parents[3],
                        download_missing=False)
    gallery = Gallery(str(tmp_path / 'faces.db'), create=True)
    perception = FacePerception(full, TrackingConfig(), gallery=gallery)
    try:
        # Same place, same size: the tracker continues the track across the swap (as a track
        # hand-over between two people would); identity must notice at the next refresh.
        frames = [[(kit, 160, (320, 240), 1.0, 0.0)]] * 10 + \
                 [[(rose, 160, (320, 240), 1.0, 0.0)]] * int(2.5 * FPS)
        result = _run(perception, frames)
        track = result[0][0].track_id
        assert all(len(faces) == 1 and faces[0].track_id == track for faces in result)
        kit_id = result[9][0].identity.person_id
        last = result[-1][0]
        assert last.identity is not None and last.identity.person_id != kit_id
        # The frame the change was noticed, the smoothed age restarted from that frame's
        # measurement: no blend of Kit's and Rose's values.
        change = next(i for i, faces in enumerate(result)
                      if faces[0].identity is None or faces[0].identity.person_id != kit_id)
        assert result[change][0].age is not None
        alone = full.attributes(_render(frames[change]), [result[change][0]])[0]
        assert result[change][0].age == pytest.approx(alone.age, abs=1e-6)
    finally:
        gallery.close()


def _faces_cli(*args):
    import subprocess
    from rosutil import LIB
    return subprocess.run([str(LIB / 'facesense_faces'), *args], capture_output=True,
                          text=True, timeout=300)


def test_enroll_names_a_person_the_node_then_recognises(pipeline, model_dir, tmp_path):
    database = str(tmp_path / 'faces.db')
    photos = [str(IDENTITIES / 'obama' / n) for n in ('2.jpg', '3.jpg')]
    done = _faces_cli('--database', database, 'enroll', 'Barack Obama', *photos,
                      '--model-dir', str(model_dir))
    assert done.returncode == 0 and 'as person 1 from 2 photo(s)' in done.stdout, done
    # Bad photos: one line naming the photo, exit 1, the gallery unchanged.
    empty = tmp_path / 'no_face.png'
    cv2.imwrite(str(empty), compose_frame(0, (320, 240))[0])
    for photo, reason in ((IDENTITIES / 'groups' / 'obama_biden_1.jpg', '2 faces found'),
                          (empty, 'no face found'),
                          (IDENTITIES / 'README.md', 'cannot read it as an image')):
        bad = _faces_cli('--database', database, 'enroll', 'X', str(photo),
                         '--model-dir', str(model_dir))
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode == 1 and len(lines) == 1, bad
        assert str(photo) in lines[0] and reason in lines[0], lines
    listed = _faces_cli('--database', database, 'list')
    assert listed.returncode == 0 and listed.stdout.count('Barack Obama') == 1
    assert 'X ' not in listed.stdout
    # A new photo of him, moving in front of the camera, is him, named, in the image label.
    gallery = Gallery(database, create=False)
    perception = FacePerception(pipeline, TrackingConfig(identity_learn=False), gallery=gallery)
    try:
        result = _run(perception, [[(_crop(pipeline, 'obama/1.jpg'), 150, (300 + 3 * i, 240),
                                     1.0, 0.0)] for i in range(8)])
        face = result[-1][0]
        assert face.identity.person_id == 1 and face.identity.name == 'Barack Obama'
        from facesense_ros.drawing import format_label
        assert format_label(face).endswith('Barack Obama')
        assert format_label(face.with_attributes(identity=Identity(4, None, 0.7))).endswith(
            'person 4')
    finally:
        gallery.close()
