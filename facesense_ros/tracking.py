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
Stable face ids across frames, per-track attribute smoothing and attribute scheduling.

Pure Python and numpy: no ROS, no models. One frame goes through a :class:`Tracker` as

1. ``tracked = tracker.update(detections, stamp)``: every face gets a ``track_id``;
2. ``due = tracker.attributes_due(tracked)``: which faces need the attribute models now;
3. run the attribute models on the due faces only;
4. ``result = tracker.smooth(faces)``: each face's new measurement (or None) folded into its
   track's smoothed attributes, which are returned.

Matching is greedy by best score: box overlap (IoU, against the track's last box and its
constant-velocity prediction) first, then for faces that moved too far for any overlap the
center distance relative to the face size. Lost tracks are kept ``track_timeout`` seconds so
that a missed detection or a short occlusion keeps the id; ids come from a counter and are
never reused within a Tracker's life.
"""

import itertools
import math
from typing import Dict, List, Optional, Sequence, Set, Tuple

from facesense_ros.attributes import ATTRIBUTES
from facesense_ros.config import TrackingConfig
from facesense_ros.face import Face
import numpy as np

Box = Tuple[float, float, float, float]

# The fallback match for faces that moved too far for their boxes to overlap: centers closer
# than this fraction of the mean face size (width and height of both boxes). Two different
# faces side by side have centers at least one face size apart, so a center within half a
# face of the prediction is never the neighbour's.
MAX_CENTER_DISTANCE = 0.5
# Boxes whose sizes differ more than this factor are not the same face by the fallback (a
# detector's box of one face changes size by a few percent between frames).
MAX_SIZE_RATIO = 2.0
# Weight of the newest velocity measurement in the track's velocity: averages out the
# detector's box jitter (a few pixels) while following a change of direction in 2-3 frames.
VELOCITY_SMOOTHING = 0.5
# IoU matches always beat fallback matches: their score is offset by this.
IOU_MATCH_BONUS = 1.0
# A stamp this much (seconds) before the previous one is a clock jump (a bag restarted, sim
# time reset): the tracks are dropped, the id counter goes on.
CLOCK_JUMP_BACK = 1e-6
# Ids start here (0 is what an untracked frame's first face gets).
FIRST_TRACK_ID = 1
# At most this many lost tracks wait for their timeout (the oldest go first): bounds memory
# and matching time when stamps stop advancing (a camera driver that leaves them at zero).
# Far above the number of faces that vanish within a timeout in any real scene.
MAX_LOST_TRACKS = 256


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x_min, y_min, x_max, y_max) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0.0 or h <= 0.0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0.0 else 0.0


def _center(box: Box) -> Tuple[float, float]:
    return ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)


def _shift(box: Box, dx: float, dy: float) -> Box:
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def _normalised(values: np.ndarray) -> Tuple[float, ...]:
    values = np.clip(values, 0.0, 1.0)
    total = float(values.sum())
    if total <= 0.0:
        # Only reachable from all-zero measurements: keep a valid distribution.
        return tuple(float(v) for v in np.full(len(values), 1.0 / len(values)))
    return tuple(float(v) for v in values / total)


def _box_relative(points, box: Box) -> np.ndarray:
    """Points (N x 2, pixels) as fractions of ``box``: they then follow the face as it moves."""
    size = np.array([box[2] - box[0], box[3] - box[1]], np.float64)
    return (np.asarray(points, np.float64) - box[:2]) / size


def _in_box(relative, box: Box) -> Tuple[Tuple[float, float], ...]:
    size = np.array([box[2] - box[0], box[3] - box[1]], np.float64)
    return tuple((float(x), float(y)) for x, y in relative * size + box[:2])


# The attributes a track smooths, as attributes.ATTRIBUTES declares them: (Face field, how,
# weight parameter of TrackingConfig or None). Those declared with smoothing None are left to
# their producer and pass through unchanged.
SMOOTHED_ATTRIBUTES = tuple((a.field, a.smoothing, a.smoothing_parameter)
                            for a in ATTRIBUTES if a.smoothing is not None)


class AttributeSmoother:
    """
    The attributes of one track (SMOOTHED_ATTRIBUTES), smoothed by exponential moving averages.

    ``update`` folds one measurement in (weight ``age_smoothing`` etc. from the config for the
    new value); a None measurement leaves the value as it was. The first measurement is taken
    as it is. With ``smoothing=False``, or for a 'latest' attribute, the latest measurement
    simply replaces the value.
    Probabilities are renormalised to sum to 1; landmarks are kept relative to the face box.
    """

    def __init__(self):
        """Start with nothing known."""
        # Field -> smoothed value (numpy, box-relative for points); absent until measured.
        self._values: Dict[str, object] = {}

    def update(self, config: TrackingConfig, face: Face) -> Dict[str, object]:
        """Fold ``face``'s measurements in; return every field's smoothed value (or None)."""
        result = {}
        for name, how, weight_name in SMOOTHED_ATTRIBUTES:
            new = getattr(face, name)
            if how == 'latest':
                # Held as it is (any type, e.g. a record decided per track): no averaging.
                if new is not None:
                    self._values[name] = new
                result[name] = self._values.get(name)
                continue
            if new is not None:
                new = (_box_relative(new, face.box) if how == 'points'
                       else np.asarray(new, np.float64))
                old = self._values.get(name)
                weight = getattr(config, weight_name) if config.smoothing else 1.0
                value = new if old is None else weight * new + (1.0 - weight) * old
                if how == 'probabilities':
                    value = np.asarray(_normalised(value))
                self._values[name] = value
            value = self._values.get(name)
            if value is None:
                result[name] = None
            elif how == 'points':
                result[name] = _in_box(value, face.box)
            elif value.ndim == 0:
                result[name] = float(value)
            else:
                result[name] = tuple(float(v) for v in value)
        return result


class _Track:
    """One face followed over frames."""

    def __init__(self, track_id: int, box: Box, stamp: float):
        self.track_id = track_id
        self.box = box
        self.stamp = stamp
        self.velocity = (0.0, 0.0)  # of the box center, pixels per second
        self.frames = 1  # frames in which this track was detected
        # Attributes are due when (frames - schedule_start) is a multiple of the interval.
        self.schedule_start = 1
        self.smoother = AttributeSmoother()

    def predicted(self, stamp: float) -> Box:
        dt = max(0.0, stamp - self.stamp)
        return _shift(self.box, self.velocity[0] * dt, self.velocity[1] * dt)

    def follow(self, box: Box, stamp: float):
        dt = stamp - self.stamp
        if dt > 0.0:
            (old_x, old_y), (new_x, new_y) = _center(self.box), _center(box)
            measured = ((new_x - old_x) / dt, (new_y - old_y) / dt)
            if self.frames == 1:
                self.velocity = measured
            else:
                self.velocity = tuple(
                    VELOCITY_SMOOTHING * m + (1.0 - VELOCITY_SMOOTHING) * v
                    for m, v in zip(measured, self.velocity))
        self.box = box
        self.stamp = stamp
        self.frames += 1


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the IoU of every box of ``a`` (Nx4) with every box of ``b`` (Mx4): NxM."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0.0, None) * np.clip(h, 0.0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0.0)


def match_scores(last: np.ndarray, predicted: np.ndarray, boxes: np.ndarray,
                 iou_threshold: float) -> np.ndarray:
    """
    Return how well each box continues each track, as a (tracks x boxes) array; 0: no match.

    ``last`` and ``predicted`` are the tracks' last and predicted boxes (Tx4), ``boxes`` the
    new ones (Fx4). Overlap matches (IoU >= ``iou_threshold`` with either track box) score
    1 + IoU; otherwise boxes of similar size whose center is within MAX_CENTER_DISTANCE face
    sizes of the prediction score in (0, 1], closer scoring higher.
    """
    overlap = np.maximum(_iou_matrix(predicted, boxes), _iou_matrix(last, boxes))
    by_overlap = (overlap > 0.0) & (overlap >= iou_threshold)
    last_w, last_h = last[:, 2] - last[:, 0], last[:, 3] - last[:, 1]
    box_w, box_h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    ratio = np.sqrt((last_w * last_h)[:, None] / (box_w * box_h)[None, :])
    similar = (ratio >= 1.0 / MAX_SIZE_RATIO) & (ratio <= MAX_SIZE_RATIO)
    size = ((last_w + last_h)[:, None] + (box_w + box_h)[None, :]) / 4.0
    dx = (predicted[:, None, 0] + predicted[:, None, 2]) - (boxes[None, :, 0] + boxes[None, :, 2])
    dy = (predicted[:, None, 1] + predicted[:, None, 3]) - (boxes[None, :, 1] + boxes[None, :, 3])
    distance = np.hypot(dx, dy) / 2.0 / size
    near = similar & (distance < MAX_CENTER_DISTANCE)
    # Below 1 (any overlap match scores more) and above 0 (no match) for every near box.
    by_distance = 1.0 - distance / MAX_CENTER_DISTANCE * (1.0 - 1e-6)
    return np.where(by_overlap, IOU_MATCH_BONUS + overlap, np.where(near, by_distance, 0.0))


class Tracker:
    """
    Give faces stable ids across frames and smooth their attributes per track.

    Not thread-safe: one caller at a time (FacePerception holds a lock around it).
    """

    def __init__(self, config: Optional[TrackingConfig] = None):
        """Start with no tracks; ``config`` defaults to TrackingConfig()."""
        self._config = config if config is not None else TrackingConfig()
        self._ids = itertools.count(FIRST_TRACK_ID)
        self._tracks: Dict[int, _Track] = {}
        self._stamp: Optional[float] = None
        # Ids of the tracks that had a face in the last update.
        self._seen: Set[int] = set()

    @property
    def config(self) -> TrackingConfig:
        """Return the TrackingConfig in use."""
        return self._config

    def configure(self, config: TrackingConfig):
        """Use ``config`` from the next call on; tracks and their smoothed values are kept."""
        self._config = config

    def reset(self):
        """Forget every track (ids are still never reused)."""
        self._tracks.clear()
        self._stamp = None
        self._seen = set()

    def clear_attributes(self):
        """
        Forget every track's smoothed attributes and make them due on the track's next frame.

        For when the attribute models change: values of the old models must not linger.
        """
        for track in self._tracks.values():
            track.smoother = AttributeSmoother()
            track.schedule_start = track.frames + 1

    @property
    def active_ids(self) -> List[int]:
        """Ids of the tracks alive now, including lost ones waiting for their timeout."""
        return sorted(self._tracks)

    def update(self, faces: Sequence[Face], stamp: float) -> List[Face]:
        """
        Assign a track id to every face of one frame taken at ``stamp`` seconds.

        Returns the faces in the same order with ``track_id`` set (everything else as given).
        Faces that continue no track start a new one; tracks without a face for longer than
        ``track_timeout`` seconds are retired.
        """
        stamp = float(stamp)
        if not math.isfinite(stamp):
            raise ValueError(f'stamp must be a finite number of seconds, got {stamp}')
        if self._stamp is not None and stamp < self._stamp - CLOCK_JUMP_BACK:
            self.reset()
        self._stamp = stamp
        tracks = list(self._tracks.values())
        track_of_face: Dict[int, _Track] = {}
        if tracks and faces:
            scores = match_scores(np.array([t.box for t in tracks], np.float64),
                                  np.array([t.predicted(stamp) for t in tracks], np.float64),
                                  np.array([f.box for f in faces], np.float64),
                                  self._config.track_iou_threshold)
            rows, cols = np.nonzero(scores)
            # Greedy by best score; ties broken by position so that results are deterministic.
            order = np.lexsort((cols, rows, -scores[rows, cols]))
            used_tracks = set()
            for ti, fi in zip(rows[order].tolist(), cols[order].tolist()):
                if ti in used_tracks or fi in track_of_face:
                    continue
                used_tracks.add(ti)
                track_of_face[fi] = tracks[ti]
        result = []
        for fi, face in enumerate(faces):
            track = track_of_face.get(fi)
            if track is None:
                track = _Track(next(self._ids), face.box, stamp)
                self._tracks[track.track_id] = track
            else:
                track.follow(face.box, stamp)
            result.append(face.with_attributes(track_id=track.track_id))
        timeout = self._config.track_timeout
        self._seen = {f.track_id for f in result}
        lost = [t for t in self._tracks.values() if t.track_id not in self._seen]
        expired = [t for t in lost if stamp - t.stamp > timeout]
        # Stamps that never advance would keep lost tracks forever: bound how many are kept.
        survivors = sorted((t for t in lost if stamp - t.stamp <= timeout),
                           key=lambda t: (t.stamp, t.track_id), reverse=True)
        for track in expired + survivors[MAX_LOST_TRACKS:]:
            del self._tracks[track.track_id]
        return result

    def lost_boxes(self) -> List[Box]:
        """
        Return where the faces of tracks missed in the last ``update`` probably are now.

        The constant-velocity prediction, at the last update's stamp, of every track that is
        alive but had no face in that frame (a missed detection, a short occlusion). The boxes
        may lie partly or wholly outside the image. For privacy: hide these too.
        """
        if self._stamp is None:
            return []
        return [t.predicted(self._stamp) for t in self._tracks.values()
                if t.track_id not in self._seen]

    def attributes_due(self, faces: Sequence[Face]) -> List[bool]:
        """
        Tell, per face returned by the last ``update``, whether its attributes are due now.

        A track's attributes are due on its first frame and then every ``attribute_interval``
        frames in which it was detected; faces of unknown tracks are always due.
        """
        interval = self._config.attribute_interval
        due = []
        for face in faces:
            track = self._tracks.get(face.track_id)
            due.append(track is None or (track.frames - track.schedule_start) % interval == 0)
        return due

    def smooth(self, faces: Sequence[Face]) -> List[Face]:
        """
        Fold each face's attributes into its track and return the faces with smoothed values.

        Call once per frame with the faces of the last ``update``; an attribute that is None
        (not due, face too small, model off) keeps the track's value, which is None until the
        track's first measurement. Faces of unknown tracks are returned unchanged.
        """
        result = []
        for face in faces:
            track = self._tracks.get(face.track_id)
            if track is None:
                result.append(face)
                continue
            result.append(face.with_attributes(**track.smoother.update(self._config, face)))
        return result
