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
The result for one face: one frozen record, validated on construction, no drawing or ROS.

Its optional fields are the attributes of attributes.ATTRIBUTES, which validate, label and
describe them; the label orders (EMOTION_LABELS, ...) are re-exported from there.
"""

from dataclasses import dataclass, fields, replace
import math
from typing import Optional, Tuple

from facesense_ros.attributes import (attention_score, ATTRIBUTES, DEFAULT_ATTENTION_LIMITS,
                                      describe_parts, EMOTION_LABELS, GENDER_LABELS,
                                      LANDMARK_NAMES, top_label, top_score)
from facesense_ros.face_geometry import FacePosition

# The label orders a Face's tuples follow, re-exported for its users (declared in attributes).
__all__ = ('EMOTION_LABELS', 'Face', 'GENDER_LABELS', 'LANDMARK_NAMES')


@dataclass(frozen=True)
class Face:
    """
    One detected face in frame pixels, with the attributes that were computed.

    Box corners are floats in pixels of the input frame, clamped to it
    (``0 <= x_min < x_max <= width``). An attribute is ``None`` when its model is off or the face
    was too small for it: never a guess.
    """

    x_min: float
    y_min: float
    x_max: float
    y_max: float
    score: float
    age: Optional[float] = None
    gender: Optional[Tuple[float, float]] = None
    emotion: Optional[Tuple[float, float, float, float, float]] = None
    track_id: Optional[int] = None
    # (yaw, pitch, roll) in degrees, OMZ head-pose-estimation-adas-0001's convention.
    head_pose: Optional[Tuple[float, float, float]] = None
    # Five (x, y) points in frame pixels, in LANDMARK_NAMES order.
    landmarks: Optional[Tuple[Tuple[float, float], ...]] = None
    # Who the face's track is (identity.Identity: gallery person id, name, confidence).
    identity: Optional[object] = None
    # The 3D position (m, camera optical frame) and where it comes from: depth or monocular.
    position: Optional[FacePosition] = None

    def __post_init__(self):
        """Reject impossible values so that a bad result never reaches a consumer."""
        coords = (self.x_min, self.y_min, self.x_max, self.y_max)
        if any(math.isnan(c) or math.isinf(c) for c in coords):
            raise ValueError(f'face box must be finite, got {coords}')
        if self.x_max <= self.x_min or self.y_max <= self.y_min:
            raise ValueError(f'face box must have positive size, got {coords}')
        if not (0.0 <= self.score <= 1.0):
            raise ValueError(f'face score must be in [0, 1], got {self.score}')
        for attribute in ATTRIBUTES:
            value = getattr(self, attribute.field)
            if value is not None:
                object.__setattr__(self, attribute.field, attribute.validate(value))
        if self.track_id is not None and self.track_id < 0:
            raise ValueError(f'track_id must be >= 0, got {self.track_id}')

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.y_max - self.y_min

    @property
    def center(self) -> Tuple[float, float]:
        """Return the box center as (x, y) pixels."""
        return ((self.x_min + self.x_max) / 2.0, (self.y_min + self.y_max) / 2.0)

    @property
    def box(self) -> Tuple[float, float, float, float]:
        """Return the corners (x_min, y_min, x_max, y_max) in pixels."""
        return (self.x_min, self.y_min, self.x_max, self.y_max)

    @property
    def emotion_label(self) -> Optional[str]:
        """Most probable emotion, or None when emotion was not computed."""
        return top_label(self.emotion, EMOTION_LABELS)

    @property
    def emotion_score(self) -> Optional[float]:
        """Probability of emotion_label, or None."""
        return top_score(self.emotion)

    @property
    def gender_label(self) -> Optional[str]:
        """More probable gender ('female' on a tie), or None when gender was not computed."""
        return top_label(self.gender, GENDER_LABELS)

    @property
    def gender_score(self) -> Optional[float]:
        """Probability of gender_label, or None."""
        return top_score(self.gender)

    def attention_score(self, yaw_limit: float, pitch_limit: float) -> Optional[float]:
        """Return attention_score of this face's head pose (None when it has none)."""
        return attention_score(self.head_pose, yaw_limit, pitch_limit)

    def describe(self, attention: Optional[float] = None, face_id: Optional[str] = None) -> str:
        """
        One line: ``id=3 gender=female(0.93) age=34 emotion=happy(0.81)``.

        With head pose and landmarks: ``... yaw/pitch/roll=-2/11/1 looking=yes(0.76)
        landmarks=5``. ``attention`` defaults to this face's attention_score at the default
        limits of the attention_yaw and attention_pitch parameters, ``face_id`` to the track
        id (no ``id=`` part without one).
        """
        if attention is None:
            attention = self.attention_score(*DEFAULT_ATTENTION_LIMITS)
        if face_id is None and self.track_id is not None:
            face_id = str(self.track_id)
        head = () if face_id is None else (f'id={face_id}',)
        return ' '.join(head + describe_parts(self, attention))

    def with_attributes(self, **changes) -> 'Face':
        """Return a copy with some fields replaced (validated again)."""
        return replace(self, **changes)


# Every declared attribute must be a field of Face: a missing one would never be filled.
_MISSING = {a.field for a in ATTRIBUTES} - {f.name for f in fields(Face)}
if _MISSING:
    raise ImportError(f'attributes.ATTRIBUTES declares {sorted(_MISSING)}, which Face lacks')
