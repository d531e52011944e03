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

"""The sample frames hold real faces that the real detector finds where they say they are."""

import sys

# ament_flake8 knows no application names: every non-stdlib import is one alphabetical group.
from facesense_ros import sample_frames
import numpy as np
import pytest
from reference import iou, ReferencePipeline

# A pasted face counts as found when a detection overlaps its box this much.
MATCH_IOU = 0.5


@pytest.fixture(scope='module')
def reference(model_dir):
    return ReferencePipeline(model_dir, threshold=0.5)


def _assert_found(reference, frame, boxes):
    detections = reference.detect(frame)
    assert len(detections) == len(boxes), (boxes, detections)
    for box in boxes:
        best = max(iou(box, d['box']) for d in detections)
        assert best >= MATCH_IOU, (box, detections)


def test_face_photos_are_distinct_bgr_images():
    photos = sample_frames.face_photos()
    assert len(photos) >= 4
    for image in photos:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    for i in range(len(photos)):
        for j in range(i + 1, len(photos)):
            same_shape = photos[i].shape == photos[j].shape
            assert not (same_shape and np.array_equal(photos[i], photos[j])), (i, j)


def test_each_face_photo_is_a_face(reference):
    for image in sample_frames.face_photos():
        detections = reference.detect(image)
        assert len(detections) == 1


def test_compose_frame_is_deterministic_and_well_formed():
    frame, boxes = sample_frames.compose_frame(4, seed=3)
    again, boxes_again = sample_frames.compose_frame(4, seed=3)
    other, _ = sample_frames.compose_frame(4, seed=4)
    assert np.array_equal(frame, again) and boxes == boxes_again
    assert not np.array_equal(frame, other)
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    assert len(boxes) == 4
    for i, box in enumerate(boxes):
        assert 0 <= box[0] < box[2] <= 640 and 0 <= box[1] < box[3] <= 480
        assert 64 - 1 <= box[3] - box[1] <= 200 + 1
        for other_box in boxes[i + 1:]:
            assert iou(box, other_box) == 0.0


@pytest.mark.parametrize('n_faces,seed', [(1, 0), (2, 1), (3, 2), (4, 5)])
def test_detector_finds_composed_faces(reference, n_faces, seed):
    frame, boxes = sample_frames.compose_frame(n_faces, seed=seed)
    _assert_found(reference, frame, boxes)


@pytest.mark.parametrize('face_px', [64, 200])
def test_detector_finds_faces_at_size_limits(reference, face_px):
    for seed in range(3):
        frame, boxes = sample_frames.compose_frame(1, face_px=(face_px, face_px), seed=seed)
        _assert_found(reference, frame, boxes)


def test_background_has_no_face(reference):
    frame, boxes = sample_frames.compose_frame(0)
    assert boxes == []
    assert reference.detect(frame) == []


def test_compose_frame_rejects_impossible_requests():
    with pytest.raises(ValueError, match='cannot place'):
        sample_frames.compose_frame(10, face_px=(200, 200))
    with pytest.raises(ValueError):
        sample_frames.compose_frame(1, face_px=(100, 50))


def test_moving_sequence_crosses_leaves_and_returns(reference):
    sequence = sample_frames.moving_sequence(n_frames=60, n_faces=2)
    assert len(sequence) == 60
    again = sample_frames.moving_sequence(n_frames=60, n_faces=2)
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(sequence, again))
    present = [dict(people) for _, people in sequence]
    assert all(0 in p for p in present)
    # Person 1 is there, leaves, and comes back.
    with_1 = [1 in p for p in present]
    first_gone = with_1.index(False)
    assert with_1[0] and not all(with_1[first_gone:]) and with_1[-1]
    # Persons 0 and 1 swap their left-right order: their paths cross.
    order = [p[0][0] < p[1][0] for p in present if 1 in p]
    assert order[0] is True and False in order
    # Smooth: a few pixels per frame.
    for before, after in zip(present, present[1:]):
        for person in set(before) & set(after):
            shift = abs(before[person][0] - after[person][0])
            assert shift <= 15, (person, shift)
    for frame, people in sequence[::3]:
        _assert_found(reference, frame, [box for _, box in people])


def test_clear_error_without_scikit_image(monkeypatch):
    monkeypatch.setitem(sys.modules, 'skimage', None)
    monkeypatch.setitem(sys.modules, 'skimage.data', None)
    with pytest.raises(sample_frames.SampleFramesError, match='needs scikit-image'):
        sample_frames.photo('rocket')
