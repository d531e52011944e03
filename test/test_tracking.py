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
The tracker on sample_frames' moving sequence: real faces sliding, crossing, leaving, returning.

These tests feed the sequence's ground-truth boxes as faces; test_perception runs the same
checks on what the real detector finds in the frames.
"""

import random

from facesense_ros import sample_frames
from facesense_ros.config import TrackingConfig
from facesense_ros.face import Face
from facesense_ros.tracking import AttributeSmoother, iou, MAX_LOST_TRACKS, Tracker
import numpy as np
import pytest

# Frames per second of the sequence as the tracker sees it (stamp = frame / FPS). At 10 fps
# person 1 is out of the frame for 1.5 s (frames 33..46), longer than the default 1 s timeout.
FPS = 10.0
N_FRAMES = 60
N_PEOPLE = 3
# Frames (person, first, last) in which a detection is taken away: a single missed
# detection of person 0, then person 1 hidden for 0.4 s while moving 13 px per frame (its box
# has moved by most of its width when it reappears), then person 0 for 0.5 s.
MISSED = ((0, 5, 5), (1, 10, 13), (0, 20, 24))
# Frames in which person 1 is out of the picture in moving_sequence(60, 3).
PERSON1_GONE = range(33, 47)


@pytest.fixture(scope='module')
def sequence():
    return sample_frames.moving_sequence(N_FRAMES, N_PEOPLE)


def _hidden(person, frame, missed):
    return any(p == person and first <= frame <= last for p, first, last in missed)


def run_ground_truth(sequence, config=None, missed=MISSED, shuffle_seed=None):
    """Track the ground-truth boxes; return {frame: {person: track_id}}."""
    tracker = Tracker(config or TrackingConfig())
    rng = random.Random(shuffle_seed)
    ids = {}
    for index, (_, people) in enumerate(sequence):
        people = [(p, box) for p, box in people if not _hidden(p, index, missed)]
        if shuffle_seed is not None:
            rng.shuffle(people)
        faces = [Face(*box, score=1.0) for _, box in people]
        tracked = tracker.update(faces, index / FPS)
        assert [f.box for f in tracked] == [f.box for f in faces], 'faces reordered or changed'
        ids[index] = {p: f.track_id for (p, _), f in zip(people, tracked)}
    return ids


def check_identities(ids, person1_gone=PERSON1_GONE):
    """Assert the expected id story; return {person: [ids in order of appearance]}."""
    story = {}
    for frame in sorted(ids):
        for person, track_id in ids[frame].items():
            seen = story.setdefault(person, [])
            if not seen or seen[-1] != track_id:
                seen.append(track_id)
    assert len(story[0]) == 1, f'person 0 changed id: {story[0]}'
    assert len(story[2]) == 1, f'person 2 changed id: {story[2]}'
    assert len(story[1]) == 2, f'person 1 should get exactly one new id on return: {story[1]}'
    before = {ids[f][1] for f in ids if 1 in ids[f] and f < person1_gone.start}
    after = {ids[f][1] for f in ids if 1 in ids[f] and f >= person1_gone.stop}
    assert len(before) == 1 and len(after) == 1 and before != after
    every = story[0] + story[1] + story[2]
    assert len(set(every)) == len(every), f'an id was shared or reused: {story}'
    # Ids are handed out in increasing order: the returning person's is the newest.
    assert story[1][1] > max(story[0] + story[2] + story[1][:1])
    return story


def test_ids_survive_missed_detections_and_occlusion(sequence):
    story = check_identities(run_ground_truth(sequence))
    print(f'ids per person: {story}')


def _canonical(ids):
    """Renumber ids by first appearance (frame, then person): equal for equal id stories."""
    names = {}
    return {frame: {p: names.setdefault(ids[frame][p], len(names)) for p in sorted(ids[frame])}
            for frame in sorted(ids)}


def test_ids_do_not_depend_on_detection_order(sequence):
    reference = _canonical(run_ground_truth(sequence))
    for seed in range(3):
        ids = run_ground_truth(sequence, shuffle_seed=seed)
        check_identities(ids)
        assert _canonical(ids) == reference


def test_occlusion_longer_than_timeout_gives_a_new_id(sequence):
    # Person 0 hidden for 1.6 s with the 1 s default: a new id.
    ids = run_ground_truth(sequence, missed=((0, 20, 35),))
    assert ids[19][0] != ids[36][0]
    # The same with a 2 s timeout: the id is kept (constant-velocity prediction meets it).
    ids = run_ground_truth(sequence, TrackingConfig(track_timeout=2.0), missed=((0, 20, 35),))
    assert ids[19][0] == ids[36][0]
    # With no timeout at all, even a single missed detection retires the track.
    ids = run_ground_truth(sequence, TrackingConfig(track_timeout=0.0), missed=((0, 5, 5),))
    assert ids[4][0] != ids[6][0]


def test_fast_motion_keeps_the_id():
    # 45 px steps of a 100 px face overlap by IoU 0.38, below a 0.5 threshold: the first step
    # is matched by center distance (0.45 face sizes), the later ones by the prediction.
    tracker = Tracker(TrackingConfig(track_iou_threshold=0.5))
    ids = set()
    for i in range(10):
        x = 20.0 + 45.0 * i
        face = Face(x, 50.0, x + 100.0, 150.0, score=0.9)
        assert iou(face.box, (x - 45.0, 50.0, x + 55.0, 150.0)) < 0.5
        ids.add(tracker.update([face], i / 30.0)[0].track_id)
    assert len(ids) == 1
    # Steps of 70 px (IoU 0.18, 0.7 face sizes) right away are too far for a new track...
    jumpy = Tracker(TrackingConfig())
    assert len({jumpy.update([Face(20.0 + 70.0 * i, 50.0, 120.0 + 70.0 * i, 150.0, score=0.9)],
                             i / 30.0)[0].track_id for i in range(2)}) == 2
    # ...but a track that has been moving at that speed is followed by its prediction.
    tracker = Tracker(TrackingConfig())
    ids = set()
    for i in range(10):
        x = 20.0 + (40.0 * i if i < 4 else 120.0 + 70.0 * (i - 3))
        ids.add(tracker.update([Face(x, 50.0, x + 100.0, 150.0, score=0.9)], i / 30.0)[0]
                .track_id)
    assert len(ids) == 1
    # A face of a very different size at the same place is someone else.
    big = Face(560.0, 0.0, 800.0, 300.0, score=0.9)
    assert tracker.update([big], 10 / 30.0)[0].track_id not in ids


def test_side_by_side_faces_keep_their_ids():
    # Two faces one face-width apart, jittering by a few pixels: never swapped.
    tracker = Tracker(TrackingConfig())
    rng = random.Random(1)
    first = None
    for i in range(30):
        faces = [Face(100.0 + dx, 100.0, 180.0 + dx, 200.0, score=0.9)
                 for dx in (rng.uniform(-4, 4), 80.0 + rng.uniform(-4, 4))]
        ids = [f.track_id for f in tracker.update(faces, i / 30.0)]
        first = first or ids
        assert ids == first


def test_clock_jump_back_restarts_tracks_without_reusing_ids():
    tracker = Tracker(TrackingConfig())
    face = Face(10.0, 10.0, 60.0, 70.0, score=0.9)
    a = tracker.update([face], 100.0)[0].track_id
    assert tracker.update([face], 100.1)[0].track_id == a
    b = tracker.update([face], 5.0)[0].track_id
    assert b > a
    tracker.reset()
    assert tracker.update([face], 5.1)[0].track_id > b


def test_attribute_schedule_per_track():
    tracker = Tracker(TrackingConfig(attribute_interval=3))
    a = Face(10.0, 10.0, 60.0, 70.0, score=0.9)
    b = Face(300.0, 10.0, 360.0, 70.0, score=0.9)
    pattern_a, pattern_b = [], []
    for i in range(7):
        faces = [a] if i < 2 else [a, b]
        due = tracker.attributes_due(tracker.update(faces, i / 30.0))
        pattern_a.append(due[0])
        if i >= 2:
            pattern_b.append(due[1])
    assert pattern_a == [True, False, False, True, False, False, True]
    assert pattern_b == [True, False, False, True, False]


BOX = (100.0, 50.0, 200.0, 170.0)


def _measured(box=BOX, **attributes):
    return Face(*box, score=0.9, **attributes)


def _triple(values):
    return values['age'], values['gender'], values['emotion']


def test_smoother_ema_none_and_off():
    config = TrackingConfig(age_smoothing=0.3, gender_smoothing=0.2, emotion_smoothing=0.4)
    smoother = AttributeSmoother()
    assert set(smoother.update(config, _measured()).values()) == {None}, \
        'no measurement yet must be None'
    age, gender, emotion = _triple(smoother.update(config, _measured(
        age=30.0, gender=(0.8, 0.2), emotion=(0.2, 0.2, 0.2, 0.2, 0.2))))
    assert (age, gender) == (30.0, (0.8, 0.2)), 'first measurement must be taken as is'
    age, gender, emotion = _triple(smoother.update(config, _measured(
        age=40.0, gender=(0.3, 0.7), emotion=(0.0, 1.0, 0.0, 0.0, 0.0))))
    assert age == pytest.approx(0.3 * 40.0 + 0.7 * 30.0)
    assert gender == pytest.approx((0.2 * 0.3 + 0.8 * 0.8, 0.2 * 0.7 + 0.8 * 0.2))
    assert emotion == pytest.approx((0.12, 0.52, 0.12, 0.12, 0.12))
    # A missing measurement (face too small, not due) keeps everything.
    assert _triple(smoother.update(config, _measured())) == (age, gender, emotion)
    # Measurements that do not sum exactly to 1 (FP16 softmax) come out normalised.
    _, gender, emotion = _triple(smoother.update(config, _measured(
        gender=(0.51, 0.5), emotion=(0.2, 0.2, 0.2, 0.2, 0.21))))
    assert sum(gender) == pytest.approx(1.0) and sum(emotion) == pytest.approx(1.0)
    off = TrackingConfig(smoothing=False)
    assert _triple(smoother.update(off, _measured(age=50.0, gender=(0.1, 0.9))))[:2] == \
        (50.0, (0.1, 0.9))


def test_smoother_head_pose_mean_and_landmarks_follow_the_box():
    config = TrackingConfig(head_pose_smoothing=0.5, landmarks_smoothing=0.25)
    smoother = AttributeSmoother()
    points = ((120.0, 80.0), (180.0, 80.0), (150.0, 110.0), (125.0, 140.0), (175.0, 140.0))
    first = smoother.update(config, _measured(head_pose=(10.0, -4.0, 2.0), landmarks=points))
    assert first['head_pose'] == (10.0, -4.0, 2.0) and first['landmarks'] == points
    second = smoother.update(config, _measured(head_pose=(30.0, 4.0, -2.0)))
    assert second['head_pose'] == pytest.approx((20.0, 0.0, 0.0))
    assert second['landmarks'] == points, 'no new landmarks: the old ones stay'
    # The face moved 40 px right and grew 2x, with the same points relative to its box: the
    # smoothed points move with it at once instead of lagging behind.
    moved = (140.0, 50.0, 340.0, 290.0)
    scaled = tuple((140.0 + (x - 100.0) * 2.0, 50.0 + (y - 50.0) * 2.0) for x, y in points)
    third = smoother.update(config, _measured(moved, landmarks=scaled))
    assert np.allclose(third['landmarks'], scaled)
    # Relative to the box, a new measurement counts with the landmarks_smoothing weight.
    shifted = tuple((x + 8.0, y) for x, y in scaled)
    fourth = smoother.update(config, _measured(moved, landmarks=shifted))
    assert np.allclose(np.array(fourth['landmarks']) - scaled, [[2.0, 0.0]] * 5)
    off = TrackingConfig(smoothing=False)
    assert smoother.update(off, _measured(head_pose=(-5.0, 1.0, 0.5)))['head_pose'] == \
        (-5.0, 1.0, 0.5)


def test_tracker_smooths_per_track():
    tracker = Tracker(TrackingConfig(age_smoothing=0.5))
    a = Face(10.0, 10.0, 60.0, 70.0, score=0.9)
    b = Face(300.0, 10.0, 360.0, 70.0, score=0.9)
    tracked = tracker.update([a, b], 0.0)
    first = tracker.smooth([tracked[0].with_attributes(age=20.0),
                            tracked[1].with_attributes(age=60.0)])
    assert [f.age for f in first] == [20.0, 60.0]
    tracked = tracker.update([b, a], 0.1)
    second = tracker.smooth([tracked[0].with_attributes(age=40.0), tracked[1]])
    assert second[0].track_id == first[1].track_id and second[0].age == 50.0
    assert second[1].track_id == first[0].track_id and second[1].age == 20.0
    # A new track has nothing to report until its first measurement.
    c = Face(150.0, 300.0, 200.0, 360.0, score=0.9)
    tracked = tracker.update([a, b, c], 0.2)
    assert tracker.smooth(tracked)[2].age is None


def test_lost_tracks_are_bounded_when_stamps_stand_still():
    # A driver that leaves every stamp at zero: nothing ever times out, yet memory is bounded.
    tracker = Tracker(TrackingConfig())
    for i in range(MAX_LOST_TRACKS + 50):
        x, y = 70.0 * (i % 9), 70.0 * (i // 9)
        tracker.update([Face(x, y, x + 60.0, y + 60.0, score=0.9)], 0.0)
    assert len(tracker.active_ids) == MAX_LOST_TRACKS + 1
    # The newest lost tracks are the ones kept.
    assert max(tracker.active_ids) == MAX_LOST_TRACKS + 50
    with pytest.raises(ValueError, match='stamp'):
        tracker.update([], float('nan'))


def test_lost_boxes_follow_missed_faces():
    tracker = Tracker(TrackingConfig(track_timeout=0.2))
    moving = [Face(20.0 + 10.0 * i, 50.0, 80.0 + 10.0 * i, 120.0, score=0.9) for i in range(12)]
    still = Face(300.0, 300.0, 360.0, 370.0, score=0.9)
    for i in range(5):
        tracker.update([moving[i], still], i / 30.0)
        assert tracker.lost_boxes() == []
    # Frames 5 and 6: the moving face is missed; its lost box is where it really is.
    for i in (5, 6):
        tracker.update([still], i / 30.0)
        (lost,) = tracker.lost_boxes()
        assert iou(lost, moving[i].box) > 0.9, (lost, moving[i].box)
    assert tracker.update([moving[7], still], 7 / 30.0)[0].track_id == 1
    assert tracker.lost_boxes() == []
    # Missed for longer than the timeout: retired, nothing left to hide.
    for i in range(8, 16):
        tracker.update([still], i / 30.0)
    assert tracker.lost_boxes() == []


@pytest.mark.parametrize('second, same', [
    # Another person at the same place 0.1 s later: a 76 px face becomes 56 px.
    ((112.0, 112.0, 168.0, 188.0), False),
    # The same face, a little closer, or narrower (turning its head), or clipped by the border.
    ((98.0, 95.0, 182.0, 205.0), True),
    ((115.0, 100.0, 165.0, 200.0), True),
    ((102.0, 100.0, 140.0, 200.0), True),
])
def test_a_size_jump_starts_a_new_track(second, same):
    tracker = Tracker(TrackingConfig())
    first = tracker.update([Face(102.0, 100.0, 178.0, 200.0, 1.0)], 0.0)[0]
    later = tracker.update([Face(*second, 1.0)], 0.1)[0]
    assert (later.track_id == first.track_id) == same
    # Given more time, the same change is motion: a face walking closer keeps its id.
    if not same:
        tracker = Tracker(TrackingConfig())
        first = tracker.update([Face(102.0, 100.0, 178.0, 200.0, 1.0)], 0.0)[0]
        assert tracker.update([Face(*second, 1.0)], 0.5)[0].track_id == first.track_id


def test_under_a_minimum_the_models_attributes_are_absent():
    tracker = Tracker(TrackingConfig())
    min_sizes = {'age_gender': 62, 'emotions': 64, 'head_pose': 60, 'landmarks': 48}
    face = tracker.update([Face(100.0, 100.0, 180.0, 190.0, 1.0)], 0.0)[0]
    points = tuple((120.0 + 10 * i, 140.0) for i in range(5))
    big = tracker.smooth([face.with_attributes(age=30.0, gender=(0.9, 0.1),
                                               emotion=(0.1, 0.6, 0.1, 0.1, 0.1),
                                               head_pose=(1.0, 2.0, 3.0), landmarks=points)],
                         min_sizes)[0]
    assert big.age == 30.0 and big.emotion is not None and big.landmarks is not None
    # 63 px wide, not measured this frame (attribute_interval): emotion absent, the rest held.
    face = tracker.update([Face(110.0, 100.0, 173.0, 190.0, 1.0)], 0.2)[0]
    small = tracker.smooth([face], min_sizes)[0]
    assert small.emotion is None and small.age == 30.0 and small.landmarks is not None
    # Under every minimum but landmarks'.
    face = tracker.update([Face(120.0, 110.0, 170.0, 175.0, 1.0)], 0.6)[0]
    small = tracker.smooth([face], min_sizes)[0]
    assert small.track_id == big.track_id
    assert (small.age, small.gender, small.emotion, small.head_pose) == (None,) * 4
    assert small.landmarks is not None
    # Grown back: the old values are gone, new ones come from the next measurement.
    face = tracker.update([Face(110.0, 100.0, 180.0, 190.0, 1.0)], 1.2)[0]
    assert tracker.smooth([face], min_sizes)[0].age is None
    face = tracker.update([Face(110.0, 100.0, 180.0, 190.0, 1.0)], 1.3)[0]
    assert tracker.smooth([face.with_attributes(age=50.0)], min_sizes)[0].age == 50.0
