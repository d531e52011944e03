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
Every per-face attribute, declared once: Face field, model, parameters, smoothing and messages.

An :class:`Attribute` is one optional field of face.Face (``age``, ``gender``, ...) and all the
code that handles it: how a value is checked, how a track smooths it, which Detection2D
hypotheses carry it and how they are decoded back, its part of the image label and of the
one-line description, what it draws, and which REP-155 message shows it. A :class:`ModelSpec`
is an Open Model Zoo model that fills one or more attributes; its parameters (``<key>``,
``<key>_precisions``, ``min_face_size_<key>``) are generated from it. docs/attributes.md lists
the places a new attribute touches.

Names: a model's parameters are named by its key, which follows the OMZ model's name
(``emotions`` from emotions-recognition-retail-0003); an attribute's by its Face field
(``emotion_smoothing``). ROS-free: messages are built from :class:`Hypothesis` tuples by
conversions.py, and REP-155 messages by hri_conversions.py.
"""

from dataclasses import dataclass
import math
from typing import Any, Callable, Dict, NamedTuple, Optional, Sequence, Tuple

import cv2
from facesense_ros.face_geometry import (distance_note, FacePosition, head_pose_from_quaternion,
                                         head_pose_quaternion, head_rotation)
from facesense_ros.identity import DEFAULT_MIN_FACE_SIZE, DEFAULT_THRESHOLD, Identity
from facesense_ros.param_spec import ParamSpec
import numpy as np

GENDER_LABELS = ('female', 'male')
# The order of emotions-recognition-retail-0003's `prob_emotion` output.
EMOTION_LABELS = ('neutral', 'happy', 'sad', 'surprise', 'anger')
# Probabilities come from softmax in FP16/INT8 models; allow their rounding when checking sums.
PROBABILITY_SUM_TOLERANCE = 0.02
# landmarks-regression-retail-0009's five points, in its output order. "right" is the person's
# right: for a face looking at the camera, the point on the image's left.
LANDMARK_NAMES = ('right_eye', 'left_eye', 'nose_tip', 'right_mouth_corner', 'left_mouth_corner')
HEAD_POSE_ANGLES = ('yaw', 'pitch', 'roll')
# Age travels as a hypothesis score in [0, 1]: years / AGE_SCALE.
AGE_SCALE = 100.0
# The oldest age a Face accepts (the model's output is clipped to it).
MAX_AGE = 150.0
# The score of a landmark hypothesis: the model gives points, no confidence.
LANDMARK_SCORE = 1.0
# "Looking at the camera" limits (degrees), measured on the sample photos (docs/models.md).
ATTENTION_YAW_DEFAULT = 20.0
ATTENTION_PITCH_DEFAULT = 20.0
DEFAULT_ATTENTION_LIMITS = (ATTENTION_YAW_DEFAULT, ATTENTION_PITCH_DEFAULT)
# attention_score at which a face counts as looking at the camera: on a yaw or pitch limit.
LOOKING_SCORE = 0.5
# The Detection2D class of the face itself (detector score; its pose's orientation is the head
# pose when there is one).
FACE_CLASS = 'face'
# How a track smooths an attribute (tracking.AttributeSmoother), weighted by the parameter
# ``<field>_smoothing``: 'mean' a moving average of a number or of each value of a tuple;
# 'probabilities' the same, renormalised to sum to 1; 'points' a moving average of (x, y)
# points relative to the face box, so that they follow a moving face. Unweighted: 'latest'
# holds the last measurement until a new one comes; None leaves the attribute to its producer
# (e.g. one decided per track outside the pipeline): the tracker does not touch it.
WEIGHTED_SMOOTHING = ('mean', 'probabilities', 'points')
SMOOTHING_KINDS = WEIGHTED_SMOOTHING + ('latest', None)


class Hypothesis(NamedTuple):
    """One Detection2D hypothesis without ROS: class, score, (x, y) pixels, orientation."""

    class_id: str
    score: float
    # None: the face box's center.
    position: Optional[Tuple[float, float]] = None
    # (x, y, z, w) or None (the message's identity).
    orientation: Optional[Tuple[float, float, float, float]] = None


def attention_score(head_pose, yaw_limit: float, pitch_limit: float) -> Optional[float]:
    """
    Return how frontal a head pose is, in (0, 1]; None without a head pose.

    With r = max(|yaw| / yaw_limit, |pitch| / pitch_limit) (0 for a face looking straight at
    the camera, 1 on a limit) the score is 1 / (1 + r**2): 1 when frontal, 0.5 exactly on a
    limit, 0.2 at twice a limit. So "looking at the camera" is score >= 0.5. Roll (a tilted
    head) does not change where the face looks.
    """
    if head_pose is None:
        return None
    yaw, pitch = head_pose[0], head_pose[1]
    r = max(abs(yaw) / yaw_limit, abs(pitch) / pitch_limit)
    return 1.0 / (1.0 + r * r)


def top_label(values: Optional[Sequence[float]], labels: Sequence[str]) -> Optional[str]:
    """Return the label of the largest value (the first on a tie), or None without values."""
    if values is None:
        return None
    return labels[max(range(len(values)), key=values.__getitem__)]


def top_score(values: Optional[Sequence[float]]) -> Optional[float]:
    """Return the largest value, or None without values."""
    return None if values is None else max(values)


def _probabilities(name: str, labels: Sequence[str]) -> Callable[[Any], Tuple[float, ...]]:
    def validate(values):
        values = tuple(float(v) for v in values)
        if len(values) != len(labels):
            raise ValueError(f'{name} needs {len(labels)} probabilities {tuple(labels)}, got '
                             f'{len(values)}')
        if any(not (0.0 <= v <= 1.0) or math.isnan(v) for v in values):
            raise ValueError(f'{name} probabilities must be in [0, 1], got {values}')
        if abs(sum(values) - 1.0) > PROBABILITY_SUM_TOLERANCE:
            raise ValueError(f'{name} probabilities must sum to 1, got {sum(values):.4f}')
        return values
    return validate


def _validate_age(age):
    if not (0.0 <= age <= MAX_AGE):
        raise ValueError(f'age must be in [0, {MAX_AGE:.0f}] years, got {age}')
    return age


def _validate_head_pose(head_pose):
    angles = tuple(float(v) for v in head_pose)
    if len(angles) != len(HEAD_POSE_ANGLES) or any(
            not math.isfinite(a) or abs(a) > 180.0 for a in angles):
        raise ValueError(f'head_pose must be (yaw, pitch, roll) finite degrees in '
                         f'[-180, 180], got {head_pose}')
    return angles


def _validate_landmarks(landmarks):
    points = tuple((float(p[0]), float(p[1])) for p in landmarks if len(p) == 2)
    if len(points) != len(LANDMARK_NAMES) or len(points) != len(landmarks) or any(
            not (math.isfinite(x) and math.isfinite(y)) for x, y in points):
        raise ValueError(f'landmarks must be {len(LANDMARK_NAMES)} finite (x, y) points '
                         f'{LANDMARK_NAMES}, got {landmarks}')
    return points


def _validate_position(position):
    if not isinstance(position, FacePosition):
        raise ValueError(f'position must be a face_geometry.FacePosition, got {position!r}')
    return position


def _classes(prefix: str, names: Sequence[str]) -> Tuple[str, ...]:
    return tuple(f'{prefix}:{name}' for name in names)


GENDER_CLASSES = _classes('gender', GENDER_LABELS)
EMOTION_CLASSES = _classes('emotion', EMOTION_LABELS)
AGE_CLASS = 'age'
ATTENTION_CLASS = 'attention:looking'
LANDMARK_CLASSES = _classes('landmark', LANDMARK_NAMES)


def _all_of(classes: Sequence[str]) -> Callable[[Dict[str, Hypothesis]], Optional[tuple]]:
    """Decode: the scores of ``classes``, in order, when all of them are there."""
    def decode(hypotheses):
        if not all(c in hypotheses for c in classes):
            return None
        return tuple(hypotheses[c].score for c in classes)
    return decode


def _decode_head_pose(hypotheses):
    # The face pose's orientation is a head pose only when attention:looking says so (without
    # one it is the message's default identity).
    face = hypotheses.get(FACE_CLASS)
    if ATTENTION_CLASS not in hypotheses or face is None or face.orientation is None:
        return None
    return head_pose_from_quaternion(*face.orientation)


def _decode_landmarks(hypotheses):
    if not all(c in hypotheses for c in LANDMARK_CLASSES):
        return None
    return tuple(hypotheses[c].position for c in LANDMARK_CLASSES)


def _describe_head_pose(face, attention):
    looking = 'yes' if attention >= LOOKING_SCORE else 'no'
    return ('yaw/pitch/roll=' + '/'.join(f'{a:.0f}' for a in face.head_pose)
            + f' looking={looking}({attention:.2f})')


# Head-pose axes, as OMZ's interactive_face_detection demo draws them (BGR): the head's x (the
# person's left) red, y (down) green, the face's normal (towards the camera) blue; each as
# long as this fraction of the box height, projected orthographically.
AXIS_COLORS = ((0, 0, 255), (0, 255, 0), (255, 0, 0))
AXIS_LENGTH = 0.4
# Landmark dots: this fraction of the box's shorter side as radius (at least 1 px), white in a
# 1 px black ring: no track colour or axis is white, and the ring keeps them visible on light
# skin.
LANDMARK_RADIUS = 1.0 / 40.0
LANDMARK_COLOR = (255, 255, 255)
LANDMARK_RING_COLOR = (0, 0, 0)


def _draw_head_pose(patch, face, local, thickness):
    # The axes start at the nose tip (the box center without landmarks).
    origin = face.landmarks[2] if face.landmarks is not None else face.center
    rotation = np.array(head_rotation(*face.head_pose))
    length = AXIS_LENGTH * face.height
    # Head x and y, and the face's normal (the head's -z) in camera coordinates.
    for axis, color in zip((rotation[:, 0], rotation[:, 1], -rotation[:, 2]), AXIS_COLORS):
        end = (origin[0] + axis[0] * length, origin[1] + axis[1] * length)
        cv2.line(patch, local(origin), local(end), color, thickness, cv2.LINE_AA)


def _draw_landmarks(patch, face, local, thickness):
    radius = max(1, int(round(min(face.width, face.height) * LANDMARK_RADIUS)))
    for point in face.landmarks:
        cv2.circle(patch, local(point), radius + 1, LANDMARK_RING_COLOR, -1, cv2.LINE_AA)
        cv2.circle(patch, local(point), radius, LANDMARK_COLOR, -1, cv2.LINE_AA)


@dataclass(frozen=True)
class Attribute:
    """
    One optional field of face.Face and everything that handles it.

    Only ``field`` and ``validate`` are required: an attribute without a model of the pipeline
    (``model=None``: e.g. one computed from a depth image by the node) or without hypotheses,
    label, description, drawing or REP-155 part leaves those out. Every callable gets the
    value's Face (never None for the attribute's own field, except ``encode``'s ``limits``).
    """

    # The Face field (None there means: not computed for this face).
    field: str
    # value -> the value normalised (tuples of floats); ValueError naming the field if invalid.
    validate: Callable[[Any], Any]
    # The ModelSpec.key of the model that computes it; None when no pipeline model does.
    model: Optional[str] = None
    # One of SMOOTHING_KINDS; a weighted kind declares the parameter <field>_smoothing.
    smoothing: Optional[str] = None
    smoothing_default: float = 1.0
    smoothing_description: str = ''
    # Every Detection2D class this attribute may emit (LabelInfo names them).
    classes: Tuple[str, ...] = ()
    # (face, (yaw, pitch) attention limits) -> its hypotheses.
    encode: Optional[Callable[[Any, Tuple[float, float]], Sequence[Hypothesis]]] = None
    # face -> the (x, y, z, w) orientation of the 'face' hypothesis, or None.
    orientation: Optional[Callable[[Any], Optional[Tuple[float, ...]]]] = None
    # {class id: Hypothesis} of one Detection2D -> the value, or None when not there.
    decode: Optional[Callable[[Dict[str, Hypothesis]], Any]] = None
    # face -> its word in the image label (``F``, ``34``, ``happy``).
    label: Optional[Callable[[Any], str]] = None
    # (face, attention score or None) -> its part of Face.describe() (``age=34``).
    describe: Optional[Callable[[Any, Optional[float]], str]] = None
    # (BGR patch of the face box, face, frame point -> patch pixel, line thickness): draws
    # inside the patch (drawing.draw_geometry clips it to the face box).
    draw: Optional[Callable[[np.ndarray, Any, Callable, int], None]] = None
    # The REP-155 per-face sub-topics (hri_publishers.SUBTOPICS) or /tf part that carry it;
    # hri_conversions builds those messages.
    rep155: Tuple[str, ...] = ()
    # Further parameters of this attribute (ParamSpecs with their group).
    parameters: Tuple[ParamSpec, ...] = ()

    def __post_init__(self):
        """Reject a declaration that names an unknown smoothing kind."""
        if self.smoothing not in SMOOTHING_KINDS:
            raise ValueError(f'attribute {self.field}: smoothing must be one of '
                             f'{SMOOTHING_KINDS}, got {self.smoothing!r}')

    @property
    def smoothing_parameter(self) -> Optional[str]:
        """Return the name of the weight parameter, or None for an unweighted kind."""
        return f'{self.field}_smoothing' if self.smoothing in WEIGHTED_SMOOTHING else None

    def smoothing_spec(self) -> Optional[ParamSpec]:
        """Return the ``<field>_smoothing`` weight parameter, or None for an unweighted kind."""
        if not self.smoothing_parameter:
            return None
        return ParamSpec(self.smoothing_parameter, self.smoothing_default,
                         self.smoothing_description, 0.01, 1.0, group='tracking')


@dataclass(frozen=True)
class ModelSpec:
    """
    An Open Model Zoo face model run by the pipeline on every face's crop; parameters by key.

    Its wrapper is the models.AttributeModel subclass with the same ``key``. A model that the
    pipeline must not load itself (it runs elsewhere, e.g. per track on an aligned crop)
    says ``in_pipeline=False``: its parameters are still generated.
    """

    key: str
    omz_name: str
    # Words in the generated descriptions: "Precisions to try for <title>, in order.",
    # "Smaller faces (px) get no <measures>."
    title: str
    measures: str
    enabled: bool
    # The smallest face (shorter side, px) it runs on.
    min_face_size: int
    in_pipeline: bool = True
    # Its own order of precisions to try (default: the order given to precisions_spec).
    precisions: Optional[Tuple[str, ...]] = None
    # The ``<key>`` parameter's description (default ``Run <omz_name>.``).
    description: str = ''
    # ``<key>`` can only be set at start-up (what it opens lives as long as the node).
    startup_only: bool = False

    def enable_spec(self) -> ParamSpec:
        """Return the ``<key>`` parameter: whether the model runs."""
        return ParamSpec(self.key, self.enabled, self.description or f'Run {self.omz_name}.',
                         needs_reload=True, read_only=self.startup_only)

    def precisions_spec(self, precisions: Tuple[str, ...]) -> ParamSpec:
        """Return the ``<key>_precisions`` parameter."""
        return ParamSpec(f'{self.key}_precisions', self.precisions or precisions,
                         f'Precisions to try for {self.title}, in order.', choices=precisions,
                         needs_reload=True)

    def min_face_size_spec(self) -> ParamSpec:
        """Return the ``min_face_size_<key>`` parameter."""
        return ParamSpec(f'min_face_size_{self.key}', self.min_face_size,
                         f'Smaller faces (px) get no {self.measures}.', 0, 4096)


# Depth (the position attribute's parameters; docs/depth.md). RealSense D400 cameras measure
# from about 0.2 m (minimum z at 640x480); beyond 10 m their error exceeds 10 % and faces are
# under 10 px: no face is measured outside this.
DEPTH_MIN_DEFAULT = 0.2
DEPTH_MAX_DEFAULT = 10.0
# Aligned RealSense depth carries its colour frame's exact stamp; hardware-synced drivers
# (Orbbec, Azure Kinect) stamp within a few ms; half a 30 fps period (16.7 ms), rounded up,
# never pairs a colour frame with the next depth frame.
DEPTH_SYNC_TOLERANCE_DEFAULT = 0.02
# At 6 m a face's eyes-and-nose patch is ~3x5 pixels in a half-resolution depth image, with
# up to 30 % holes: 6 valid pixels still give a median within 1 % there (docs/depth.md).
DEPTH_MIN_PIXELS_DEFAULT = 6
DEPTH_PARAMETERS = (
    ParamSpec('depth', False, 'Subscribe depth/image_raw (16UC1 mm or 32FC1 m, registered to '
              "image_raw) and measure each face's distance in it.", group='tracking'),
    ParamSpec('depth_min', DEPTH_MIN_DEFAULT, 'Depth values below this (m) are ignored.',
              0.0, 100.0, group='tracking'),
    ParamSpec('depth_max', DEPTH_MAX_DEFAULT, 'Depth values above this (m) are ignored.',
              0.01, 100.0, group='tracking'),
    ParamSpec('depth_sync_tolerance', DEPTH_SYNC_TOLERANCE_DEFAULT, 'A depth frame pairs with '
              'a colour frame when their stamps differ by at most this (s).', 0.0, 1.0,
              group='tracking'),
    ParamSpec('depth_min_pixels', DEPTH_MIN_PIXELS_DEFAULT, 'A face needs at least this many '
              'valid depth pixels on its surface.', 1, 10000, group='tracking'),
    ParamSpec('depth_smoothing', 0.5, 'Weight of a new distance measurement (1 = none); '
              'jumps are rejected, not averaged in.', 0.01, 1.0, group='tracking'),
)

# Whether head pose and landmarks run by default: on if it adds at most 15 % to the 4-face frame
# time (docs/models.md). Together they add 23-33 %; landmarks alone 7-13 % (0.36 ms of
# inference at 4 faces) and REP-155's `landmarks` and `aligned` need it: on. Head pose alone
# adds 14-27 % (as much as age-gender): off.
HEAD_POSE_DEFAULT = False
LANDMARKS_DEFAULT = True

# Every attribute model, in the order the pipeline starts them. Minimum face sizes: each
# model's input size (62, 64, 60 and 48 px square), so that no crop is upscaled.
MODELS = (
    ModelSpec('age_gender', 'age-gender-recognition-retail-0013', 'age-gender', 'age/gender',
              True, 62),
    ModelSpec('emotions', 'emotions-recognition-retail-0003', 'emotions', 'emotion', True, 64),
    ModelSpec('head_pose', 'head-pose-estimation-adas-0001', 'head pose', 'head pose',
              HEAD_POSE_DEFAULT, 60),
    ModelSpec('landmarks', 'landmarks-regression-retail-0009', 'landmarks', 'landmarks',
              LANDMARKS_DEFAULT, 48),
    # Off by default (embeddings are biometric data: nothing computed, nothing stored); FP16
    # first: its INT8 file measured slightly lower genuine similarities (docs/identity.md).
    # identity.py runs it per track on the aligned crop, not FacePipeline on every face.
    ModelSpec('identity', 'face-reidentification-retail-0095', 'face re-identification',
              'identity', False, DEFAULT_MIN_FACE_SIZE, in_pipeline=False,
              precisions=('FP16', 'FP16-INT8', 'FP32'),
              description='Recognise people across visits: face-reidentification-retail-0095 '
              'embeddings matched against a face gallery on disk (biometric data, '
              'docs/identity.md). Needs landmarks and tracking.', startup_only=True),
)
MODELS_BY_KEY: Dict[str, ModelSpec] = {m.key: m for m in MODELS}

IDENTITY_CLASS = 'identity:person'
PERSON_ID_CLASS = 'identity:person_id'
IDENTITY_CLASSES = (IDENTITY_CLASS, PERSON_ID_CLASS)
# A named person's face also carries the class ``identity:name:<name>`` (score: the identity
# confidence). Names are not a fixed set, so these classes are not in conversions.CLASSES: the
# node appends one per named gallery person to its LabelInfo and republishes it when the names
# change (conversions.label_info).
NAME_CLASS_PREFIX = 'identity:name:'
# The person id travels as a score in [0, 1) like age: id / 2**32. Dividing by a power of two
# is exact in float64, so the decoder gets the integer back for every id < 2**32.
PERSON_ID_SCALE = float(2 ** 32)
# Days an unnamed person is kept after last being seen: a month of not coming back.
RETENTION_DAYS_DEFAULT = 30.0


def _validate_identity(identity):
    if isinstance(identity, Identity):
        return identity
    if isinstance(identity, (tuple, list)) and len(identity) == 3:
        return Identity(*identity)
    raise ValueError(f'identity must be an identity.Identity (person_id, name, confidence), '
                     f'got {identity!r}')


def name_class(name: str) -> str:
    """Return the Detection2D class of a person's name: ``identity:name:<name>``."""
    return NAME_CLASS_PREFIX + name


def _encode_identity(face, _):
    identity = face.identity
    hypotheses = [Hypothesis(IDENTITY_CLASS, identity.confidence),
                  Hypothesis(PERSON_ID_CLASS, identity.person_id / PERSON_ID_SCALE)]
    if identity.name:
        hypotheses.append(Hypothesis(name_class(identity.name), identity.confidence))
    return hypotheses


def _decode_identity(hypotheses):
    if not all(c in hypotheses for c in IDENTITY_CLASSES):
        return None
    name = next((c[len(NAME_CLASS_PREFIX):] for c in hypotheses
                 if c.startswith(NAME_CLASS_PREFIX)), None)
    return Identity(int(round(hypotheses[PERSON_ID_CLASS].score * PERSON_ID_SCALE)),
                    name or None, min(1.0, max(0.0, hypotheses[IDENTITY_CLASS].score)))


# Every attribute, in the order of the image label and of Face.describe(); new ones go last
# (their Detection2D classes are appended to conversions.CLASSES in this order).
ATTRIBUTES = (
    Attribute(
        'gender', _probabilities('gender', GENDER_LABELS), model='age_gender',
        smoothing='probabilities', smoothing_default=0.2,
        smoothing_description='Weight of a new gender measurement.',
        classes=GENDER_CLASSES,
        encode=lambda face, _: [Hypothesis(c, p) for c, p in zip(GENDER_CLASSES, face.gender)],
        decode=_all_of(GENDER_CLASSES),
        label=lambda face: 'F' if face.gender_label == 'female' else 'M',
        describe=lambda face, attention: f'gender={face.gender_label}({face.gender_score:.2f})',
        rep155=('softbiometrics',)),
    Attribute(
        'age', _validate_age, model='age_gender', smoothing='mean', smoothing_default=0.3,
        smoothing_description='Weight of a new age measurement (1 = no smoothing).',
        classes=(AGE_CLASS,),
        encode=lambda face, limits: [Hypothesis(AGE_CLASS, face.age / AGE_SCALE)],
        decode=lambda hyps: hyps[AGE_CLASS].score * AGE_SCALE if AGE_CLASS in hyps else None,
        label=lambda face: str(int(round(face.age))),
        describe=lambda face, attention: f'age={face.age:.0f}',
        rep155=('softbiometrics',)),
    Attribute(
        'emotion', _probabilities('emotion', EMOTION_LABELS), model='emotions',
        smoothing='probabilities', smoothing_default=0.4,
        smoothing_description='Weight of a new emotion measurement.',
        classes=EMOTION_CLASSES,
        encode=lambda face, _: [Hypothesis(c, p)
                                for c, p in zip(EMOTION_CLASSES, face.emotion)],
        decode=_all_of(EMOTION_CLASSES),
        label=lambda face: face.emotion_label,
        describe=lambda face, _: f'emotion={face.emotion_label}({face.emotion_score:.2f})',
        rep155=('expression',)),
    Attribute(
        'head_pose', _validate_head_pose, model='head_pose', smoothing='mean',
        smoothing_default=0.5,
        smoothing_description='Weight of a new head pose measurement.',
        classes=(ATTENTION_CLASS,),
        encode=lambda face, limits: [Hypothesis(ATTENTION_CLASS, face.attention_score(*limits))],
        orientation=lambda face: head_pose_quaternion(*face.head_pose),
        decode=_decode_head_pose,
        describe=_describe_head_pose,
        draw=_draw_head_pose,
        rep155=('tf',),
        parameters=(
            ParamSpec('attention_yaw', ATTENTION_YAW_DEFAULT, 'Looking at the camera: |yaw| up '
                      'to this (degrees).', 1.0, 90.0, group='tracking'),
            ParamSpec('attention_pitch', ATTENTION_PITCH_DEFAULT, 'Looking at the camera: '
                      '|pitch| up to this (degrees).', 1.0, 90.0, group='tracking'))),
    Attribute(
        'landmarks', _validate_landmarks, model='landmarks', smoothing='points',
        smoothing_default=0.6,
        smoothing_description='Weight of a new landmarks measurement (smoothed relative to the '
                              'face box, so they follow a moving face).',
        classes=LANDMARK_CLASSES,
        encode=lambda face, limits: [Hypothesis(c, LANDMARK_SCORE, point)
                                     for c, point in zip(LANDMARK_CLASSES, face.landmarks)],
        decode=_decode_landmarks,
        describe=lambda face, attention: f'landmarks={len(face.landmarks)}',
        draw=_draw_landmarks,
        rep155=('landmarks', 'aligned')),
    Attribute(
        'identity', _validate_identity, model='identity',
        # Decided per track by identity.py; the tracker must not hold or blend it.
        smoothing=None,
        classes=IDENTITY_CLASSES,
        encode=_encode_identity,
        decode=_decode_identity,
        label=lambda face: face.identity.label,
        describe=lambda face, _: (f'person={face.identity.person_id}'
                                  + (f'({face.identity.name})' if face.identity.name else '')
                                  + f' identity_confidence={face.identity.confidence:.2f}'),
        parameters=(
            ParamSpec('identity_database', '', 'Face gallery file (SQLite); empty: '
                      '$XDG_DATA_HOME/facesense_ros/faces.db (~/.local/share/...). Created '
                      'only when identity is on.', group='node', read_only=True),
            ParamSpec('identity_learn', True, 'Add people the gallery does not know as new '
                      'persons; false: only enrolled persons are recognised.', group='tracking'),
            ParamSpec('identity_threshold', DEFAULT_THRESHOLD, 'Cosine similarity from which a '
                      'face is a gallery person (calibrated, docs/identity.md).', 0.0, 1.0,
                      group='tracking'),
            ParamSpec('identity_retention_days', RETENTION_DAYS_DEFAULT, 'Persons without a '
                      'name not seen for this many days are deleted (0: kept).', 0.0, 36500.0,
                      group='node'))),
    # The face's 3D position (face_geometry.FacePosition), set by the node after the tracker
    # (depth.FaceLocator: from a registered depth image, else the monocular estimate) and
    # smoothed there (jumps rejected): the tracker leaves it alone. It travels in
    # faces/detections_3d (depth_conversions), not in the Detection2D.
    Attribute(
        'position', _validate_position, smoothing=None,
        label=lambda face: distance_note(face.position),
        describe=lambda face, _: (f'distance={face.position.distance:.2f}m'
                                  f'({face.position.source})'),
        rep155=('tf',),
        parameters=DEPTH_PARAMETERS),
)
ATTRIBUTES_BY_FIELD: Dict[str, Attribute] = {a.field: a for a in ATTRIBUTES}


def label_parts(face) -> Tuple[str, ...]:
    """Return the words of the image label of ``face``'s computed attributes, in order."""
    return tuple(a.label(face) for a in ATTRIBUTES
                 if a.label is not None and getattr(face, a.field) is not None)


def describe_parts(face, attention: Optional[float]) -> Tuple[str, ...]:
    """Return the ``name=value`` parts of ``face``'s computed attributes, in order."""
    return tuple(a.describe(face, attention) for a in ATTRIBUTES
                 if a.describe is not None and getattr(face, a.field) is not None)
