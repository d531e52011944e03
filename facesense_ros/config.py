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
Configuration of the perception core, and the table every node parameter is declared from.

``PARAMETERS`` is the single source of truth for names, defaults, descriptions and ranges: the
dataclasses below validate against it and the ROS node declares its parameters from it, so the
core, the node, ``config/facesense.yaml`` and README cannot drift apart.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Optional, Tuple

# The SSD-style ([1, 1, N, 7] output) face detectors of Open Model Zoo that we support.
DETECTORS = (
    'face-detection-0102',
    'face-detection-0202',
    'face-detection-retail-0004',
    'face-detection-retail-0005',
    'face-detection-adas-0001',
)
AGE_GENDER_MODEL = 'age-gender-recognition-retail-0013'
EMOTIONS_MODEL = 'emotions-recognition-retail-0003'
HEAD_POSE_MODEL = 'head-pose-estimation-adas-0001'
LANDMARKS_MODEL = 'landmarks-regression-retail-0009'
# Every attribute model by its parameter key: ``<key>`` turns it on, ``<key>_precisions`` and
# ``min_face_size_<key>`` configure it (models.ATTRIBUTE_MODEL_CLASSES has one class per key).
ATTRIBUTE_MODELS = {
    'age_gender': AGE_GENDER_MODEL,
    'emotions': EMOTIONS_MODEL,
    'head_pose': HEAD_POSE_MODEL,
    'landmarks': LANDMARKS_MODEL,
}
# OMZ publishes these precisions; the first one found on disk wins.
PRECISIONS = ('FP16-INT8', 'FP16', 'FP32')
PERFORMANCE_HINTS = ('LATENCY', 'THROUGHPUT')
PRIVACY_MODES = ('off', 'blur', 'pixelate')
# Whether head pose and landmarks run by default: on if it adds at most 15 % to the 4-face frame
# time (docs/models.md). Together they add 23-33 %; landmarks alone 7-13 % (0.36 ms of
# inference at 4 faces) and REP-155's `landmarks` and `aligned` need it: on. Head pose alone
# adds 14-27 % (as much as age-gender): off.
HEAD_POSE_DEFAULT = False
LANDMARKS_DEFAULT = True
# Depth: RealSense D400 cameras measure from about 0.2 m (minimum z at 640x480); beyond 10 m
# their error exceeds 10 % and faces are under 10 px: no face is measured outside this.
DEPTH_MIN_DEFAULT = 0.2
DEPTH_MAX_DEFAULT = 10.0
# Aligned RealSense depth carries its colour frame's exact stamp; hardware-synced drivers
# (Orbbec, Azure Kinect) stamp within a few ms; half a 30 fps period (16.7 ms), rounded up,
# never pairs a colour frame with the next depth frame (depth.DEFAULT_SYNC_TOLERANCE).
DEPTH_SYNC_TOLERANCE_DEFAULT = 0.02
# At 6 m a face's eyes-and-nose patch is ~3x5 pixels in a half-resolution depth image, with
# up to 30 % holes: 6 valid pixels still give a median within 1 % there (docs/depth.md).
DEPTH_MIN_PIXELS_DEFAULT = 6
# "Looking at the camera" limits (degrees), measured on the sample photos (docs/models.md).
ATTENTION_YAW_DEFAULT = 20.0
ATTENTION_PITCH_DEFAULT = 20.0


@dataclass(frozen=True)
class ParamSpec:
    """One configurable value: its default, meaning and allowed range or choices."""

    name: str
    default: Any
    description: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: Optional[Tuple[str, ...]] = None
    # Changing it at run time rebuilds the compiled models.
    needs_reload: bool = False

    def check(self, value) -> Optional[str]:
        """Return why ``value`` is not acceptable, or None when it is."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is tuple:
            if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
                return f'{self.name} must be a list of strings, got {value!r}'
            if not value:
                return f'{self.name} must not be empty'
            bad = [v for v in value if self.choices and v not in self.choices]
            if bad:
                return f'{self.name}: unknown {bad}, expected some of {list(self.choices)}'
            return None
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f'{self.name} must be {expected.__name__}, got {value!r}'
        if self.choices is not None and value not in self.choices:
            return f'{self.name} must be one of {list(self.choices)}, got {value!r}'
        if self.minimum is not None and value < self.minimum:
            return f'{self.name} must be >= {self.minimum}, got {value!r}'
        if self.maximum is not None and value > self.maximum:
            return f'{self.name} must be <= {self.maximum}, got {value!r}'
        return None


_SPECS = (
    # --- models (changing any of these rebuilds the compiled models) ---
    ParamSpec('detector', DETECTORS[0], 'Face detector model (OMZ name).',
              choices=DETECTORS, needs_reload=True),
    ParamSpec('model_dir', '', 'Directory holding OMZ intel/<model>/<PRECISION>/ files; empty: '
              '$FACESENSE_MODEL_DIR, then ~/.cache/facesense_ros/models.', needs_reload=True),
    ParamSpec('age_gender', True, 'Run age-gender-recognition-retail-0013.', needs_reload=True),
    ParamSpec('emotions', True, 'Run emotions-recognition-retail-0003.', needs_reload=True),
    ParamSpec('head_pose', HEAD_POSE_DEFAULT, 'Run head-pose-estimation-adas-0001.',
              needs_reload=True),
    ParamSpec('landmarks', LANDMARKS_DEFAULT, 'Run landmarks-regression-retail-0009.',
              needs_reload=True),
    ParamSpec('detector_precisions', PRECISIONS, 'Precisions to try for the detector, in order.',
              choices=PRECISIONS, needs_reload=True),
    ParamSpec('age_gender_precisions', PRECISIONS, 'Precisions to try for age-gender, in order.',
              choices=PRECISIONS, needs_reload=True),
    ParamSpec('emotions_precisions', PRECISIONS, 'Precisions to try for emotions, in order.',
              choices=PRECISIONS, needs_reload=True),
    ParamSpec('head_pose_precisions', PRECISIONS, 'Precisions to try for head pose, in order.',
              choices=PRECISIONS, needs_reload=True),
    ParamSpec('landmarks_precisions', PRECISIONS, 'Precisions to try for landmarks, in order.',
              choices=PRECISIONS, needs_reload=True),
    ParamSpec('device', 'CPU', 'OpenVINO device: CPU, GPU, NPU, AUTO, ...', needs_reload=True),
    ParamSpec('performance_hint', 'LATENCY', 'OpenVINO performance hint.',
              choices=PERFORMANCE_HINTS, needs_reload=True),
    # --- per-frame behaviour (applied live) ---
    ParamSpec('confidence_threshold', 0.5, 'Minimum detector score of a face.', 0.0, 1.0),
    ParamSpec('max_faces', 20, 'At most this many faces per frame (highest scores kept).', 1, 200),
    ParamSpec('roi_scale', 1.2, 'Attribute crops: the box squared and scaled by this factor '
              '(1.0 = the detector box, as the seed did).', 1.0, 2.0),
    ParamSpec('min_face_size_age_gender', 62, 'Smaller faces (px) get no age/gender.', 0, 4096),
    ParamSpec('min_face_size_emotions', 64, 'Smaller faces (px) get no emotion.', 0, 4096),
    # The models' input sizes (60x60, 48x48): smaller faces would be upscaled.
    ParamSpec('min_face_size_head_pose', 60, 'Smaller faces (px) get no head pose.', 0, 4096),
    ParamSpec('min_face_size_landmarks', 48, 'Smaller faces (px) get no landmarks.', 0, 4096),
    # --- tracking, smoothing, privacy ---
    ParamSpec('tracking', True, 'Give faces stable ids across frames.'),
    ParamSpec('track_timeout', 1.0, 'Seconds a lost track is kept before its id retires.',
              0.0, 60.0),
    ParamSpec('track_iou_threshold', 0.3, 'Minimum box overlap to continue a track.', 0.0, 1.0),
    ParamSpec('smoothing', True, 'Smooth attributes per track over time.'),
    ParamSpec('age_smoothing', 0.3, 'Weight of a new age measurement (1 = no smoothing).',
              0.01, 1.0),
    ParamSpec('gender_smoothing', 0.2, 'Weight of a new gender measurement.', 0.01, 1.0),
    ParamSpec('emotion_smoothing', 0.4, 'Weight of a new emotion measurement.', 0.01, 1.0),
    ParamSpec('head_pose_smoothing', 0.5, 'Weight of a new head pose measurement.', 0.01, 1.0),
    ParamSpec('landmarks_smoothing', 0.6, 'Weight of a new landmarks measurement (smoothed '
              'relative to the face box, so they follow a moving face).', 0.01, 1.0),
    ParamSpec('attribute_interval', 1, 'Run attribute models on a tracked face every N frames.',
              1, 100),
    ParamSpec('attention_yaw', ATTENTION_YAW_DEFAULT, 'Looking at the camera: |yaw| up to '
              'this (degrees).', 1.0, 90.0),
    ParamSpec('attention_pitch', ATTENTION_PITCH_DEFAULT, 'Looking at the camera: |pitch| up '
              'to this (degrees).', 1.0, 90.0),
    ParamSpec('privacy_mode', 'off', 'Hide faces in the annotated image.',
              choices=PRIVACY_MODES),
    # --- depth (faces in 3D from a registered depth image; docs/depth.md) ---
    ParamSpec('depth', False, 'Subscribe depth/image_raw (16UC1 mm or 32FC1 m, registered to '
              "image_raw) and measure each face's distance in it."),
    ParamSpec('depth_min', DEPTH_MIN_DEFAULT, 'Depth values below this (m) are ignored.',
              0.0, 100.0),
    ParamSpec('depth_max', DEPTH_MAX_DEFAULT, 'Depth values above this (m) are ignored.',
              0.01, 100.0),
    ParamSpec('depth_sync_tolerance', DEPTH_SYNC_TOLERANCE_DEFAULT, 'A depth frame pairs with '
              'a colour frame when their stamps differ by at most this (s).', 0.0, 1.0),
    ParamSpec('depth_min_pixels', DEPTH_MIN_PIXELS_DEFAULT, 'A face needs at least this many '
              'valid depth pixels on its surface.', 1, 10000),
    ParamSpec('depth_smoothing', 0.5, 'Weight of a new distance measurement (1 = none); '
              'jumps are rejected, not averaged in.', 0.01, 1.0),
)
PARAMETERS: Dict[str, ParamSpec] = {spec.name: spec for spec in _SPECS}


def check_parameter(name: str, value) -> Optional[str]:
    """Return why ``value`` is not acceptable for parameter ``name``, or None."""
    spec = PARAMETERS.get(name)
    if spec is None:
        return f'unknown parameter {name!r}'
    return spec.check(value)


class _Checked:
    """Mixin: validate every field against PARAMETERS in __post_init__."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                value = tuple(value)
                object.__setattr__(self, f.name, value)
            if isinstance(PARAMETERS[f.name].default, float) and isinstance(value, int):
                object.__setattr__(self, f.name, float(value))
            reason = check_parameter(f.name, value)
            if reason:
                raise ValueError(reason)

    def to_dict(self) -> Dict[str, Any]:
        """Field values by name."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Dict[str, Any]):
        """Build from a mapping, ignoring keys that are not fields of this class."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def _default(name):
    return PARAMETERS[name].default


@dataclass(frozen=True)
class PipelineConfig(_Checked):
    """What FacePipeline runs and how; field names are the node's parameter names."""

    detector: str = _default('detector')
    model_dir: str = _default('model_dir')
    age_gender: bool = _default('age_gender')
    emotions: bool = _default('emotions')
    head_pose: bool = _default('head_pose')
    landmarks: bool = _default('landmarks')
    detector_precisions: Tuple[str, ...] = _default('detector_precisions')
    age_gender_precisions: Tuple[str, ...] = _default('age_gender_precisions')
    emotions_precisions: Tuple[str, ...] = _default('emotions_precisions')
    head_pose_precisions: Tuple[str, ...] = _default('head_pose_precisions')
    landmarks_precisions: Tuple[str, ...] = _default('landmarks_precisions')
    device: str = _default('device')
    performance_hint: str = _default('performance_hint')
    confidence_threshold: float = _default('confidence_threshold')
    max_faces: int = _default('max_faces')
    roi_scale: float = _default('roi_scale')
    min_face_size_age_gender: int = _default('min_face_size_age_gender')
    min_face_size_emotions: int = _default('min_face_size_emotions')
    min_face_size_head_pose: int = _default('min_face_size_head_pose')
    min_face_size_landmarks: int = _default('min_face_size_landmarks')


@dataclass(frozen=True)
class TrackingConfig(_Checked):
    """
    How faces are tracked and smoothed, when a face counts as looking, and the image's privacy.

    Everything that happens after the models: FacePerception, the Detection2D encoding
    (attention) and the annotated image use it.
    """

    tracking: bool = _default('tracking')
    track_timeout: float = _default('track_timeout')
    track_iou_threshold: float = _default('track_iou_threshold')
    smoothing: bool = _default('smoothing')
    age_smoothing: float = _default('age_smoothing')
    gender_smoothing: float = _default('gender_smoothing')
    emotion_smoothing: float = _default('emotion_smoothing')
    head_pose_smoothing: float = _default('head_pose_smoothing')
    landmarks_smoothing: float = _default('landmarks_smoothing')
    attribute_interval: int = _default('attribute_interval')
    attention_yaw: float = _default('attention_yaw')
    attention_pitch: float = _default('attention_pitch')
    privacy_mode: str = _default('privacy_mode')


@dataclass(frozen=True)
class DepthConfig(_Checked):
    """Whether and how faces are measured in a registered depth image (depth.FaceLocator)."""

    depth: bool = _default('depth')
    depth_min: float = _default('depth_min')
    depth_max: float = _default('depth_max')
    depth_sync_tolerance: float = _default('depth_sync_tolerance')
    depth_min_pixels: int = _default('depth_min_pixels')
    depth_smoothing: float = _default('depth_smoothing')

    def __post_init__(self):
        """Check every field, and that depth_min < depth_max."""
        super().__post_init__()
        if self.depth_min >= self.depth_max:
            raise ValueError(f'depth_min ({self.depth_min}) must be below depth_max '
                             f'({self.depth_max})')


def reload_needed(old: PipelineConfig, new: PipelineConfig) -> bool:
    """Whether going from ``old`` to ``new`` needs the models compiled again."""
    return any(getattr(old, f.name) != getattr(new, f.name)
               for f in fields(PipelineConfig) if PARAMETERS[f.name].needs_reload)
