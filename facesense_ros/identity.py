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
Who each face track is: embeddings of its good frames, combined, matched against the gallery.

Per track, not per frame (docs/identity.md): a frame counts only when the face is big enough,
sharp enough (variance of the Laplacian of the aligned crop) and frontal enough (head pose
when it was measured, else the landmarks' symmetry). The first ``EARLY_EMBEDDINGS`` good
frames each give an embedding; then the track is decided: the normalised mean of its
embeddings is matched against the gallery, and above the threshold it is that person, below it
a new person (``learn``) or unknown. Afterwards one embedding every ``REFRESH_INTERVAL_S``
keeps the decision current: a refresh that no longer resembles the track means another person
took the track over, and the track starts again from nothing (its old person withdrawn, the
caller told so that it drops the track's other attributes too). No ROS.
"""

from collections import deque
from dataclasses import dataclass
import logging
import math
import time
from typing import Deque, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import cv2
from facesense_ros.gallery import GalleryError, UnknownPersonError
import numpy as np

LOGGER = logging.getLogger('facesense_ros')

# Embeddings taken in a track's first good frames before it is decided: the mean of three
# measured closer to the person's gallery embeddings than one alone (docs/identity.md), and
# three frames at 30 fps are 0.1 s, well inside the 0.5 s allowed for a new person's id.
EARLY_EMBEDDINGS = 3
# Seconds between the embeddings of a decided track: one inference (about 2.5 ms) per track
# every two seconds costs under 0.1 % of the frame time at 30 fps and 4 faces, and notices a
# take-over of the track by another person within two seconds.
REFRESH_INTERVAL_S = 2.0
# The newest embeddings a track keeps for its mean: recent views count, old ones fade.
TRACK_EMBEDDINGS = 8
# Default match threshold on the cosine similarity, calibrated on ../shared/data/identities
# with bench/identity_calibration.py (docs/identity.md): every pair of photos of one person
# scored 0.564..0.992 (FP16), every pair of different people -0.228..0.247; 0.40 is the
# middle of that gap (0.405), so a single view of either kind has a 0.16 margin. Six people
# is a small set: it shows the gap, not the false-match rate among thousands.
DEFAULT_THRESHOLD = 0.40
# Smallest face (shorter side of the detector box, px) that gives an embedding: under this,
# the 128 px model input is upscaled more than 2x and embeddings of one person spread.
DEFAULT_MIN_FACE_SIZE = 64
# Variance of the Laplacian of the aligned grey crop under which a frame is too blurred: the
# identity photos' faces scaled to 120 px measured 86..1333, and after a 5x5 Gaussian blur
# (sigma 2) 18..84 (docs/identity.md). The ranges overlap (it depends on the face and the
# light), so the gate only drops clearly blurred frames; a dropped frame costs nothing.
MIN_SHARPNESS = 30.0
# Frontal enough with a head pose: |yaw| and |pitch| up to these (degrees); the model is
# trained on frontal-ish faces and the alignment of a turned face distorts it.
MAX_YAW = 35.0
MAX_PITCH = 30.0
# Frontal enough without a head pose: the nose tip's offset from the eyes' midpoint along the
# eye line, as a fraction of the eye distance, up to this (0 frontal; the identity photos,
# all roughly frontal, measured 0.00..0.32).
MAX_NOSE_OFFSET = 0.35
# A gallery person who matched below this similarity gets the track's mean as a further view
# (with learning on), so that other angles, light and years are kept; above, it adds nothing.
NEW_VIEW_BELOW = 0.7
# A gallery that fails (locked past its busy timeout, disk full) is reported at most this often
# (seconds); the tracks concerned stay undecided and are tried again on the next frame.
GALLERY_WARN_PERIOD_S = 5.0


@dataclass(frozen=True)
class Identity:
    """
    Who a face is: a gallery person id, the person's name if one is set, and a confidence.

    ``confidence`` in [0, 1] is :func:`confidence_from_similarity` of the track's embedding to
    the person's (0.5 exactly on the threshold, 1 for identical embeddings).
    """

    person_id: int
    name: Optional[str]
    confidence: float

    def __post_init__(self):
        """Reject an id < 1, a non-string name or a confidence outside [0, 1]."""
        if isinstance(self.person_id, bool) or not isinstance(self.person_id, int) \
                or self.person_id < 1:
            raise ValueError(f'identity person_id must be an integer >= 1, got '
                             f'{self.person_id!r}')
        if self.name is not None and not isinstance(self.name, str):
            raise ValueError(f'identity name must be a string or None, got {self.name!r}')
        confidence = float(self.confidence)
        if not (0.0 <= confidence <= 1.0):
            raise ValueError(f'identity confidence must be in [0, 1], got {self.confidence}')
        object.__setattr__(self, 'confidence', confidence)

    @property
    def label(self) -> str:
        """Return the name, or ``person <id>`` without one: what the image shows."""
        return self.name if self.name else f'person {self.person_id}'


def confidence_from_similarity(similarity: float, threshold: float) -> float:
    """
    Map a cosine similarity to a confidence in [0, 1] (linear on both sides of the threshold).

    0 at similarity -1 (opposite), 0.5 exactly at ``threshold``, 1 at similarity 1: so a match
    (similarity >= threshold) has a confidence >= 0.5 and a rejected one below 0.5.
    """
    s = min(1.0, max(-1.0, float(similarity)))
    if s >= threshold:
        return 0.5 + 0.5 * (s - threshold) / max(1e-9, 1.0 - threshold)
    return 0.5 * (s + 1.0) / max(1e-9, threshold + 1.0)


def normalised_mean(embeddings: Iterable[np.ndarray]) -> np.ndarray:
    """Return the L2-normalised mean of L2-normalised embeddings (float32)."""
    mean = np.mean(np.asarray(list(embeddings), np.float32), axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def sharpness(aligned_bgr: np.ndarray) -> float:
    """Return the variance of the Laplacian of an aligned face crop's grey image."""
    grey = cv2.cvtColor(aligned_bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def nose_offset(landmarks) -> float:
    """
    Return how far the nose tip is from the eyes' midpoint, along the eye line, per eye distance.

    0 for a frontal face, growing with yaw (the nose moves towards one eye); independent of
    roll and scale. ``landmarks`` are LANDMARK_NAMES' five (x, y) points.
    """
    points = np.asarray(landmarks, np.float64)
    eye_a, eye_b, nose = points[0], points[1], points[2]
    axis = eye_b - eye_a
    distance = float(np.linalg.norm(axis))
    if distance <= 0.0:
        return math.inf
    return abs(float(np.dot(nose - (eye_a + eye_b) / 2.0, axis / distance))) / distance


def is_frontal(head_pose, landmarks) -> bool:
    """Whether a face is frontal enough: by its head pose if measured, else its landmarks."""
    if head_pose is not None:
        return abs(head_pose[0]) <= MAX_YAW and abs(head_pose[1]) <= MAX_PITCH
    return nose_offset(landmarks) <= MAX_NOSE_OFFSET


@dataclass(frozen=True)
class IdentityConfig:
    """How tracks are identified (the node's identity_* parameters)."""

    threshold: float = DEFAULT_THRESHOLD
    learn: bool = True
    min_face_size: int = DEFAULT_MIN_FACE_SIZE

    def __post_init__(self):
        """Reject a threshold outside [-1, 1] or a negative size."""
        if not (-1.0 <= self.threshold <= 1.0):
            raise ValueError(f'identity_threshold must be in [-1, 1], got {self.threshold}')
        if self.min_face_size < 0:
            raise ValueError(f'min_face_size_identity must be >= 0, got {self.min_face_size}')


class _TrackState:
    """What one track knows about who it is."""

    def __init__(self):
        self.embeddings: Deque[np.ndarray] = deque(maxlen=TRACK_EMBEDDINGS)
        self.last_embedding = -math.inf
        self.decided = False
        self.identity: Optional[Identity] = None


class IdentityTracker:
    """
    Per-track identities from a face re-identification model and a gallery.

    ``gallery`` has gallery.Gallery's ``match``, ``add_person``, ``add_embeddings`` and
    ``seen``; the model given to ``update`` FaceReidModel's ``preprocess(frame, landmarks)``
    (aligned crops), ``infer`` and ``normalised``. Not thread-safe: FacePerception calls it
    under its lock.
    """

    def __init__(self, gallery):
        """Start with no tracks; ``gallery`` is a gallery.Gallery (or the same methods)."""
        self.gallery = gallery
        self._tracks: Dict[int, _TrackState] = {}
        self.config = IdentityConfig()
        # Counters for tests and statistics.
        self.embeddings_computed = 0
        self.frames_rejected = {'size': 0, 'frontal': 0, 'sharpness': 0}
        self._warned_at = -math.inf

    def reset(self) -> None:
        """Forget every track (the gallery keeps what was learnt)."""
        self._tracks.clear()

    def _wanted(self, state: _TrackState, stamp: float) -> bool:
        if len(state.embeddings) < EARLY_EMBEDDINGS and not state.decided:
            return True
        return stamp - state.last_embedding >= REFRESH_INTERVAL_S

    def update(self, model, frame: np.ndarray, faces: Sequence, stamp: float,
               active_ids: Iterable[int], config: IdentityConfig
               ) -> Tuple[Dict[int, Optional[Identity]], Set[int]]:
        """
        Fold one frame's measured faces in; return identities and the tracks that changed.

        Returns every visible track's identity (None: undecided or unknown), and the ids of
        the tracks whose person changed (their other attributes belong to someone else).

        ``faces`` have ``track_id`` and, where measured in this frame, ``landmarks`` (and
        ``head_pose`` when on); ``active_ids`` are the tracker's live ids (others are dropped).
        """
        self.config = config
        active = set(active_ids)
        for gone in [t for t in self._tracks if t not in active]:
            del self._tracks[gone]
        chosen: List[Tuple[int, object]] = []
        refresh: List[Tuple[float, int, object]] = []
        for face in faces:
            if face.track_id is None:
                continue
            state = self._tracks.setdefault(face.track_id, _TrackState())
            if face.landmarks is None or not self._wanted(state, stamp):
                continue
            if min(face.width, face.height) < self.config.min_face_size:
                self.frames_rejected['size'] += 1
            elif not is_frontal(face.head_pose, face.landmarks):
                self.frames_rejected['frontal'] += 1
            elif state.decided:
                refresh.append((state.last_embedding, face.track_id, face.landmarks))
            else:
                chosen.append((face.track_id, face.landmarks))
        if refresh:
            # One refresh per frame, the longest waiting: tracks that started together would
            # otherwise all refresh in the same frame (measured: 4 at once cost a frame up to
            # 27 ms on a busy 2-core machine, one costs about 2.5 ms).
            _, track_id, landmarks = min(refresh, key=lambda r: (r[0], r[1]))
            chosen.append((track_id, landmarks))
        changed: Set[int] = set()
        if chosen:
            batch = model.preprocess(frame, [points for _, points in chosen])
            sharp = [i for i in range(len(chosen)) if sharpness(batch[i]) >= MIN_SHARPNESS]
            self.frames_rejected['sharpness'] += len(chosen) - len(sharp)
            if sharp:
                batch = np.ascontiguousarray(batch[sharp])
                embeddings = model.normalised(model.infer(batch), len(sharp))
                self.embeddings_computed += len(sharp)
                for i, embedding in zip(sharp, embeddings):
                    track_id = chosen[i][0]
                    if self._add(self._tracks[track_id], embedding, stamp):
                        changed.add(track_id)
        self._reread_gallery()
        self._decide(faces, changed)
        return ({f.track_id: self._tracks[f.track_id].identity
                 for f in faces if f.track_id in self._tracks}, changed)

    def _reread_gallery(self) -> None:
        """When the gallery changed (a name, a merge, a forget; another node), decide again."""
        try:
            # At most every 0.5 s it looks at the file (gallery.REFRESH_INTERVAL).
            changed = self.gallery.refresh()
        except GalleryError as e:
            self._warn(e)
            return
        if changed:
            # Each held track is matched again with its embeddings (0.6 ms at 10,000 persons):
            # a new name shows within about 0.5 s, a forgotten person is not held on to.
            for state in self._tracks.values():
                state.decided = False

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= GALLERY_WARN_PERIOD_S:
            self._warned_at = now
            LOGGER.warning('identity: %s', error)

    def _add(self, state: _TrackState, embedding: np.ndarray, stamp: float) -> bool:
        """Add a track's new embedding; True when it shows another person took the track."""
        state.last_embedding = stamp
        taken_over = False
        if state.decided and state.embeddings:
            similarity = float(np.dot(normalised_mean(state.embeddings), embedding))
            if similarity < self.config.threshold:
                taken_over = state.identity is not None
                state.embeddings.clear()
                state.decided = False
                state.identity = None
        state.embeddings.append(embedding)
        if state.decided:
            # A refresh: decide again with the new view.
            state.decided = False
        return taken_over

    def _decide(self, faces: Sequence, changed: Set[int]) -> None:
        """Decide every track with enough embeddings and no current decision."""
        visible = [f.track_id for f in faces if f.track_id in self._tracks]
        held = {self._tracks[t].identity.person_id: t for t in visible
                if self._tracks[t].decided and self._tracks[t].identity is not None}
        for track_id in visible:
            state = self._tracks[track_id]
            if state.decided or not state.embeddings or (
                    state.identity is None and len(state.embeddings) < EARLY_EMBEDDINGS):
                continue
            old = state.identity
            try:
                identity = self._match(state, held, track_id, first=old is None)
            except GalleryError as e:
                # Detections go on without this decision; the next frame tries again.
                self._warn(e)
                continue
            state.identity = identity
            state.decided = True
            if state.identity is not None:
                held[state.identity.person_id] = track_id
            if old is not None and (state.identity is None
                                    or state.identity.person_id != old.person_id):
                changed.add(track_id)

    def _match(self, state: _TrackState, held: Dict[int, int], track_id: int,
               first: bool) -> Optional[Identity]:
        config = self.config
        mean = normalised_mean(state.embeddings)
        match = self.gallery.match(mean)
        if match is not None and match.similarity >= config.threshold \
                and held.get(match.person_id, track_id) == track_id:
            # Two faces in one frame are two people: a person already held by another visible
            # track is no match for this one.
            self.gallery.seen(match.person_id)
            # Once per track, not at every refresh: the person's views grow per visit.
            if config.learn and first and match.similarity < NEW_VIEW_BELOW:
                try:
                    self.gallery.add_embeddings(match.person_id, [mean])
                except UnknownPersonError:
                    # Forgotten from outside since the gallery was last read: still a match.
                    pass
            return Identity(match.person_id, match.name,
                            confidence_from_similarity(match.similarity, config.threshold))
        if not config.learn:
            return None
        person_id = self.gallery.add_person(list(state.embeddings))
        # How alike the track's own views are: its best evidence of being one person.
        consistency = float(np.mean([np.dot(mean, e) for e in state.embeddings]))
        return Identity(person_id, None,
                        confidence_from_similarity(consistency, config.threshold))


def photo_faces(pipeline, model, image: np.ndarray) -> List[Tuple[object, np.ndarray]]:
    """
    Return every face of a still photo with its embedding, left to right.

    ``pipeline`` is a FacePipeline with landmarks on (the same detector and landmarks as the
    node), ``model`` a FaceReidModel. A face without landmarks (too small) has no embedding
    and is left out. For enrolment and calibration: no quality gate, a photo is chosen by a
    person.
    """
    faces = [f for f in pipeline.process(image) if f.landmarks is not None]
    faces.sort(key=lambda f: f.x_min)
    if not faces:
        return []
    embeddings = model.embed(image, [f.landmarks for f in faces])
    return list(zip(faces, embeddings))
