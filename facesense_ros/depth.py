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
Faces in 3D from a registered depth image, numpy only: decoding, sync, robust distance, smoothing.

The pieces, in the order a frame meets them (docs/depth.md has the rules and their figures):

1. :func:`decode_depth`: the bytes of a sensor_msgs/Image (``16UC1`` millimetres or ``32FC1``
   metres, REP-118) to a :class:`DepthFrame`, every size checked before anything is allocated.
   Nothing is converted here: the frame keeps a view of the message's bytes and each face's
   patch is converted when measured.
2. :class:`DepthBuffer`: the last few depth frames; the one nearest in stamp to a colour frame,
   within a tolerance.
3. :func:`check_registration`: the same ``frame_id`` and a size that is a scale of the colour
   image's.
4. :func:`measure_face`: the distance of a face's own surface, background and occluders
   rejected (the densest depth cluster of the patch around the landmarks).
5. :class:`FaceLocator`: per face, the depth measurement smoothed per track (jumps rejected)
   and back-projected through the intrinsics, or the monocular estimate of face_geometry,
   marked as such: a face_geometry.FacePosition, the value of Face's ``position`` attribute.

Every bad input gives a :class:`DepthError` (or a failure reason per face) naming what is wrong:
nothing here raises anything else on untrusted input.
"""

from collections import deque
from dataclasses import dataclass
import math
import threading
from typing import Dict, List, Optional, Sequence, Tuple

from facesense_ros import face_geometry
from facesense_ros.config import PARAMETERS, TrackingConfig
from facesense_ros.encodings import DEFAULT_MAX_INPUT_PIXELS, OversizedImageError
from facesense_ros.face import Face
# The position record and its sources live with the face geometry (Face's `position` field).
from facesense_ros.face_geometry import (FacePosition, SOURCE_DEPTH, SOURCE_HELD,  # noqa: F401
                                         SOURCE_MONOCULAR)
import numpy as np

# REP-118 depth encodings: numpy little-endian dtype and metres per unit.
DEPTH_ENCODINGS = {'16UC1': ('<u2', 0.001), '32FC1': ('<f4', 1.0)}
# How many depth frames are kept for matching. Aligned RealSense depth carries its colour
# frame's stamp and arrives within a frame period of it; at 30 fps three frames (100 ms) cover
# a colour frame processed late by a busy node, and bound memory to three messages.
DEPTH_BUFFER_SIZE = 3
# Default sync tolerance (s): the parameter's (config.py says why: how drivers stamp).
DEFAULT_SYNC_TOLERANCE = PARAMETERS['depth_sync_tolerance'].default
# The colour frame may be processed before its depth frame arrived (they travel on two
# topics): the worker waits at most this long for a depth frame within the tolerance.
DEFAULT_DEPTH_WAIT = 0.05
# Depth counts as flowing while its newest frame is at most this much (s) older than the colour
# frame: a depth camera at 6 fps or more; otherwise nothing is awaited.
DEPTH_STREAM_GAP = 0.5
# Depth-to-colour size ratios we accept (a depth image 4x smaller or larger than the colour
# one), and how far the two axes' ratios may differ (integer rounding of odd sizes).
MIN_SCALE, MAX_SCALE = 0.25, 4.0
SCALE_TOLERANCE = 0.02
# Nose tip to cheeks is 2-3 cm and eyes to cheekbones 1-2 cm on an adult face: one face's
# surface between the eyes and the mouth spans at most this much depth (m), noise aside.
FACE_DEPTH_SPAN = 0.10
# Sensor noise of structured-light and stereo cameras grows with z^2 (RealSense D400: under
# 2 % at 2 m): the cluster window also spans this fraction of the distance, so that at 6 m
# (+-18 cm) the noisy face stays one cluster.
CLUSTER_REL_WIDTH = 0.06
# The face cluster must hold at least this share of the patch's valid pixels: a patch that is
# mostly background or an occluder is not the face's (monocular fallback, reason counted).
MIN_CLUSTER_SHARE = 0.5
# The patch without landmarks: the central part of the detector box (fractions of its width
# and height), where a frontal or turned face has skin, not hair or background.
CENTRAL_BOX = (0.3, 0.3, 0.7, 0.7)
# With landmarks the patch is the bounding box of the eyes and the nose tip (the first three
# of face.LANDMARK_NAMES), grown by this fraction of the eyes' distance on each side: the
# upper cheeks and the nose, still inside the face. The mouth is left out: a hand, a cup or a
# microphone in front of a face covers the mouth and chin far more often than the eyes (which
# the detector needs to see a face at all).
EYES_AND_NOSE = 3
LANDMARK_MARGIN = 0.2
# The depth cluster must agree with the face's apparent size: between these factors of the
# monocular estimate (face_geometry: a face of 63 mm between the eyes or a 0.15 m box), i.e.
# a face between half and twice the nominal size. A wall seen past the face or a large
# occluder is refused rather than published.
MONOCULAR_AGREEMENT = (0.5, 2.0)
# The interquartile range of a normal distribution is 1.349 sigma; the median's standard error
# is 1.2533 sigma / sqrt(n).
IQR_TO_SIGMA = 1.349
MEDIAN_EFFICIENCY = 1.2533
# Where on the face relief the median lands (nose, cheeks, eye sockets): a floor on the
# distance's sigma (m), whatever the pixel count.
RELIEF_SIGMA = 0.005
# A depth measurement worse than this fraction of its distance is refused (inconsistent);
# so a depth position's relative sigma is always <= 5 %, a monocular one's always
# MONOCULAR_REL_SIGMA: the covariance tells them apart (docs/depth.md).
MAX_DEPTH_REL_SIGMA = 0.05
# The monocular estimate is 2.7-14 % off at 0.8-4 m with one pixel of landmark noise and
# +-15 % from the spread of adult eye distances (docs/interfaces.md): its sigma along z.
MONOCULAR_REL_SIGMA = 0.15
# Sigma across the line of sight: a few pixels of box or landmark jitter at fx ~ 500 px.
LATERAL_REL_SIGMA = 0.01
# Per-track smoothing: a new distance more than this many sigmas (and at least JUMP_MIN m)
# from the smoothed one is an outlier, not averaged in; after OUTLIER_RUN consistent outliers
# in a row the person really moved (or the track changed face): the track restarts there.
JUMP_SIGMAS = 5.0
JUMP_MIN = 0.15
OUTLIER_RUN = 3
# A smoothed distance without a fresh measurement is held at most this long (s), then the
# face falls back to the monocular estimate.
DEPTH_HOLD_SEC = 0.5

# Reasons a depth frame is refused (DepthError.reason) and a face gets no depth
# (FacePosition.reason): the keys of the node's diagnostics counters.
ENCODING, GEOMETRY, OVERSIZED, SHORT_DATA = 'encoding', 'geometry', 'oversized', 'short data'
ALL_INVALID, OUT_OF_RANGE = 'all invalid', 'out of range'
FRAME_ID, NOT_A_SCALE, NO_MATCH = 'frame_id', 'size not a scale', 'no matching stamp'
NO_INTRINSICS, FEW_PIXELS, INCONSISTENT = 'no camera_info', 'too few valid pixels', 'inconsistent'
OUTLIER, IMPLAUSIBLE = 'outlier', 'implausible for its size'


Box = Tuple[float, float, float, float]
Intrinsics = Tuple[float, float, float, float]


class DepthError(ValueError):
    """A depth image that cannot be used; ``reason`` is one of the reason keys above."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class DepthFrame:
    """
    One decoded depth image: ``raw`` (H x W, uint16 or float32, a view of the message's bytes).

    ``scale`` converts raw units to metres; ``stamp`` in seconds; ``frame_id`` as received.
    """

    raw: np.ndarray
    scale: float
    stamp: float
    frame_id: str

    @property
    def size(self) -> Tuple[int, int]:
        """Return (width, height) in pixels."""
        return (self.raw.shape[1], self.raw.shape[0])

    def metres(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """Return rows y0..y1, columns x0..x1 as float32 metres, NaN where there is no depth."""
        patch = self.raw[y0:y1, x0:x1].astype(np.float32)
        if self.scale != 1.0:
            patch *= np.float32(self.scale)
        # 0 is "no measurement" in both encodings; NaN, inf and negatives in 32FC1.
        patch[~(patch > 0.0) | ~np.isfinite(patch)] = np.nan
        return patch


def decode_depth(data, encoding: str, width: int, height: int, step: int,
                 is_bigendian: bool = False, stamp: float = 0.0, frame_id: str = '',
                 max_pixels: int = DEFAULT_MAX_INPUT_PIXELS,
                 valid_range: Optional[Tuple[float, float]] = None) -> DepthFrame:
    """
    Return the depth image as a DepthFrame without copying it; DepthError if it is unusable.

    Checked in this order, before anything is allocated: the encoding (16UC1 or 32FC1), the
    sizes (positive, at most ``max_pixels``, ``step`` >= width * bytes per pixel), the data's
    length (>= step * height). Then the values: none valid (0, NaN, inf everywhere) is
    ``all invalid``; with ``valid_range`` (depth_min, depth_max in metres), none inside it is
    ``out of range`` (absurd values).
    """
    if encoding not in DEPTH_ENCODINGS:
        raise DepthError(ENCODING, f'depth encoding {encoding!r} is not one of '
                         f'{list(DEPTH_ENCODINGS)} (REP-118: 16UC1 mm, 32FC1 m)')
    dtype, scale = DEPTH_ENCODINGS[encoding]
    itemsize = np.dtype(dtype).itemsize
    if width <= 0 or height <= 0:
        raise DepthError(GEOMETRY, f'depth image size must be positive, got {width}x{height}')
    if width * height > max_pixels:
        raise DepthError(OVERSIZED, str(OversizedImageError(
            f'depth {encoding} declares {width}x{height} = {width * height:,} pixels, over '
            f'max_input_pixels {max_pixels:,}: not converted')))
    if step < width * itemsize:
        raise DepthError(GEOMETRY, f'depth step {step} is shorter than width * {itemsize} = '
                         f'{width * itemsize} for {encoding}')
    if len(data) < step * height:
        raise DepthError(SHORT_DATA, f'depth {encoding} {width}x{height} with step {step} '
                         f'needs {step * height} bytes, got {len(data)}')
    buffer = np.frombuffer(data, dtype=np.uint8, count=step * height)
    rows = buffer.reshape(height, step)[:, :width * itemsize]
    if step % itemsize:
        # Viewing bytes as 2- or 4-byte values needs aligned rows: copy odd-step rows.
        rows = np.ascontiguousarray(rows)
    raw = rows.view('>' + dtype[1:] if is_bigendian else dtype)
    frame = DepthFrame(raw=raw, scale=scale, stamp=float(stamp), frame_id=frame_id)
    _check_values(frame, encoding, valid_range)
    return frame


def _check_values(frame: DepthFrame, encoding: str, valid_range):
    raw = frame.raw
    if raw.dtype.kind == 'u':
        valid = raw != 0
    else:
        valid = np.isfinite(raw) & (raw > 0)
    if not valid.any():
        raise DepthError(ALL_INVALID, f'depth {encoding} has no measurement (0, NaN or inf '
                         'everywhere)')
    if valid_range is not None:
        low, high = (v / frame.scale for v in valid_range)
        if not (valid & (raw >= low) & (raw <= high)).any():
            raise DepthError(OUT_OF_RANGE, f'depth {encoding}: no value within depth_min..'
                             f'depth_max {valid_range[0]:g}..{valid_range[1]:g} m')


def check_registration(depth: DepthFrame, frame_id: str, colour_size: Tuple[int, int]) -> float:
    """
    Return the depth-to-colour scale (depth width / colour width); DepthError if unregistered.

    Registered depth has the colour image's ``frame_id`` and field of view: its size is the
    colour size times one factor for both axes (e.g. half), between MIN_SCALE and MAX_SCALE.
    """
    if depth.frame_id != frame_id:
        raise DepthError(FRAME_ID, f"depth frame_id {depth.frame_id!r} is not the image's "
                         f'{frame_id!r}: depth is not registered to the colour image')
    (dw, dh), (cw, ch) = depth.size, colour_size
    sx, sy = dw / cw, dh / ch
    if not (MIN_SCALE <= sx <= MAX_SCALE) or abs(sx - sy) > SCALE_TOLERANCE * max(sx, sy):
        raise DepthError(NOT_A_SCALE, f'depth {dw}x{dh} is not a scale of the colour image '
                         f'{cw}x{ch} (x{sx:.3f} / x{sy:.3f})')
    return sx


class DepthBuffer:
    """
    The last ``capacity`` depth frames, thread-safe: one thread adds, another matches.

    A frame older than every kept one is still added (it replaces the oldest) only if newer
    than it; matching takes the frame nearest in stamp within the tolerance.
    """

    def __init__(self, capacity: int = DEPTH_BUFFER_SIZE):
        self._frames: deque = deque(maxlen=capacity)
        self._arrived = threading.Condition()

    def add(self, frame: DepthFrame):
        """Keep ``frame`` (the oldest kept frame goes when full)."""
        with self._arrived:
            self._frames.append(frame)
            self._arrived.notify_all()

    def clear(self):
        """Forget every frame."""
        with self._arrived:
            self._frames.clear()

    def __len__(self):
        with self._arrived:
            return len(self._frames)

    def _nearest(self, stamp: float, tolerance: float) -> Optional[DepthFrame]:
        best = min(self._frames, key=lambda f: abs(f.stamp - stamp), default=None)
        if best is None or abs(best.stamp - stamp) > tolerance:
            return None
        return best

    def match(self, stamp: float, tolerance: float, wait: float = 0.0) -> Optional[DepthFrame]:
        """
        Return the kept frame nearest to ``stamp`` within ``tolerance`` s, or None.

        With ``wait`` > 0 and no match yet, wait up to that long for one while depth is
        flowing (the newest kept frame is at most DEPTH_STREAM_GAP older than ``stamp``) and no
        frame newer than ``stamp + tolerance`` arrived (depth arrives in stamp order, so then
        no match will come). Without depth coming in, a colour frame never waits.
        """
        with self._arrived:
            found = self._nearest(stamp, tolerance)
            newest = max((f.stamp for f in self._frames), default=None)
            if (found is not None or wait <= 0.0 or newest is None
                    or not stamp - DEPTH_STREAM_GAP <= newest <= stamp + tolerance):
                return found
            self._arrived.wait_for(
                lambda: self._nearest(stamp, tolerance) is not None or any(
                    f.stamp > stamp + tolerance for f in self._frames), timeout=wait)
            return self._nearest(stamp, tolerance)


@dataclass(frozen=True)
class DepthMeasurement:
    """A face's distance from the depth image: z (m), its sigma (m), the pixels behind it."""

    z: float
    sigma: float
    pixels: int


def face_patch(box: Box, landmarks) -> Box:
    """Return the colour-image rectangle whose depth is the face's own surface."""
    if landmarks is not None:
        (rx, ry), (lx, ly) = landmarks[face_geometry.RIGHT_EYE], landmarks[face_geometry.LEFT_EYE]
        margin = LANDMARK_MARGIN * math.hypot(lx - rx, ly - ry)
        upper = landmarks[:EYES_AND_NOSE]
        xs, ys = [p[0] for p in upper], [p[1] for p in upper]
        x0, y0 = min(xs) - margin, min(ys) - margin
        x1, y1 = max(xs) + margin, max(ys) + margin
        # Never outside the detector's box (a landmark model on a cut face can stray out).
        return (max(x0, box[0]), max(y0, box[1]), min(x1, box[2]), min(y1, box[3]))
    width, height = box[2] - box[0], box[3] - box[1]
    return (box[0] + CENTRAL_BOX[0] * width, box[1] + CENTRAL_BOX[1] * height,
            box[0] + CENTRAL_BOX[2] * width, box[1] + CENTRAL_BOX[3] * height)


def _densest_window(values: np.ndarray) -> Tuple[int, int]:
    """Return [start, end) of the sorted ``values``' densest window (ties: the nearest)."""
    width = np.maximum(FACE_DEPTH_SPAN, CLUSTER_REL_WIDTH * values)
    ends = np.searchsorted(values, values + width, side='right')
    counts = ends - np.arange(values.size)
    start = int(np.argmax(counts))
    return start, int(ends[start])


def measure_face(depth: DepthFrame, scale: float, box: Box, landmarks,
                 depth_range: Tuple[float, float], min_pixels: int):
    """
    Return the face's DepthMeasurement, or the reason it has none (a reason key string).

    The rule (docs/depth.md): the patch of the face's own surface (face_patch) in the depth
    image (``scale`` = depth / colour size); its valid values within ``depth_range``; at least
    ``min_pixels`` of them; the densest window of FACE_DEPTH_SPAN (or CLUSTER_REL_WIDTH of the
    distance) among them, which must hold MIN_CLUSTER_SHARE of them, so that neither background
    seen past the face nor an object in front of part of it decides; the median of that
    cluster. Its sigma is the median's standard error from the cluster's spread.
    """
    px0, py0, px1, py1 = face_patch(box, landmarks)
    width, height = depth.size
    x0 = min(max(int(math.floor(px0 * scale)), 0), width - 1)
    y0 = min(max(int(math.floor(py0 * scale)), 0), height - 1)
    x1 = min(max(int(math.ceil(px1 * scale)), x0 + 1), width)
    y1 = min(max(int(math.ceil(py1 * scale)), y0 + 1), height)
    values = depth.metres(x0, y0, x1, y1).ravel()
    low, high = depth_range
    values = np.sort(values[(values >= low) & (values <= high)])
    if values.size < min_pixels:
        return FEW_PIXELS
    start, end = _densest_window(values)
    cluster = values[start:end]
    if cluster.size < max(min_pixels, MIN_CLUSTER_SHARE * values.size):
        return INCONSISTENT
    n = cluster.size
    # The cluster is sorted: its median and quartiles are read off, not computed.
    z = float(cluster[n // 2] if n % 2 else (cluster[n // 2 - 1] + cluster[n // 2]) / 2.0)
    spread = float(cluster[(3 * n) // 4] - cluster[n // 4]) / IQR_TO_SIGMA
    sigma = math.hypot(MEDIAN_EFFICIENCY * spread / math.sqrt(n), RELIEF_SIGMA)
    if sigma > MAX_DEPTH_REL_SIGMA * z:
        return INCONSISTENT
    return DepthMeasurement(z=z, sigma=sigma, pixels=int(cluster.size))


def back_project(pixel: Tuple[float, float], z: float, intrinsics: Intrinsics) -> np.ndarray:
    """Return the 3D point (camera optical frame, m) at depth ``z`` behind image ``pixel``."""
    fx, fy, cx, cy = intrinsics
    return np.array([(pixel[0] - cx) / fx * z, (pixel[1] - cy) / fy * z, z])


def scaled_intrinsics(k: Sequence[float], info_size: Tuple[int, int],
                      image_size: Tuple[int, int]) -> Optional[Intrinsics]:
    """
    Return (fx, fy, cx, cy) of CameraInfo ``k`` for an image of ``image_size``, or None.

    A camera_info calibrated at another resolution (``info_size`` = its width, height; 0 when
    unset) is scaled to the image's; None when uncalibrated (fx or fy not > 0) or not finite.
    """
    fx, fy, cx, cy = float(k[0]), float(k[4]), float(k[2]), float(k[5])
    if not (fx > 0 and fy > 0 and all(math.isfinite(v) for v in (fx, fy, cx, cy))):
        return None
    if info_size[0] > 0 and info_size[1] > 0 and tuple(info_size) != tuple(image_size):
        sx, sy = image_size[0] / info_size[0], image_size[1] / info_size[1]
        # Pixel centers are at integers: scale about the corner at -0.5.
        return (fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5)
    return (fx, fy, cx, cy)


def _sigmas(z: float, sigma_z: float) -> Tuple[float, float, float]:
    lateral = max(LATERAL_REL_SIGMA * z, 1e-4)
    return (lateral, lateral, sigma_z)


def monocular_position(face: Face, intrinsics: Intrinsics, reason: str) -> FacePosition:
    """Return face_geometry's estimate (nominal face size) as a FacePosition with ``reason``."""
    position = face_geometry.face_position(face.box, face.landmarks, face.head_pose, intrinsics)
    z = float(position[2])
    return FacePosition(position=tuple(float(v) for v in position),
                        sigma=_sigmas(z, MONOCULAR_REL_SIGMA * z), source=SOURCE_MONOCULAR,
                        reason=reason)


class _Track:
    __slots__ = ('z', 'sigma', 'stamp', 'outliers')

    def __init__(self, z, sigma, stamp):
        self.z, self.sigma, self.stamp, self.outliers = z, sigma, stamp, []


class DepthSmoother:
    """
    Per-track smoothing of distances; a jump is an outlier, never averaged in.

    ``update`` folds a measurement in with weight ``alpha`` unless it lies more than
    JUMP_SIGMAS sigmas (at least JUMP_MIN m) from the smoothed value: then the smoothed value
    is kept (held) and the outlier remembered; OUTLIER_RUN consistent outliers in a row restart
    the track at the new distance (the person moved). Values expire DEPTH_HOLD_SEC after the
    last accepted measurement.
    """

    def __init__(self, alpha: float = 0.5):
        self.alpha = alpha
        self._tracks: Dict[int, _Track] = {}

    def update(self, track_id: int, measured: DepthMeasurement,
               stamp: float) -> Tuple[float, float, bool]:
        """Return (z, sigma, accepted) for this frame's measurement of track ``track_id``."""
        track = self._tracks.get(track_id)
        if track is None or stamp - track.stamp > DEPTH_HOLD_SEC or stamp < track.stamp:
            self._tracks[track_id] = _Track(measured.z, measured.sigma, stamp)
            return measured.z, measured.sigma, True
        limit = max(JUMP_SIGMAS * math.hypot(track.sigma, measured.sigma), JUMP_MIN)
        if abs(measured.z - track.z) > limit:
            track.outliers.append(measured)
            run = track.outliers[-OUTLIER_RUN:]
            if len(run) == OUTLIER_RUN and max(m.z for m in run) - min(m.z for m in run) <= limit:
                self._tracks[track_id] = _Track(measured.z, measured.sigma, stamp)
                return measured.z, measured.sigma, True
            return track.z, track.sigma, False
        track.outliers = []
        a = self.alpha
        track.z = (1.0 - a) * track.z + a * measured.z
        # The average of independent measurements: its sigma shrinks, never below one
        # measurement's relief floor.
        track.sigma = max(math.hypot((1.0 - a) * track.sigma, a * measured.sigma),
                          RELIEF_SIGMA)
        track.stamp = stamp
        return track.z, track.sigma, True

    def held(self, track_id: int, stamp: float) -> Optional[Tuple[float, float]]:
        """Return the track's (z, sigma) if measured within DEPTH_HOLD_SEC, else None."""
        track = self._tracks.get(track_id)
        if track is None or not (0.0 <= stamp - track.stamp <= DEPTH_HOLD_SEC):
            return None
        return track.z, track.sigma

    def expire(self, stamp: float):
        """Forget every track not measured within DEPTH_HOLD_SEC before ``stamp`` (or after it)."""
        for track_id in [t for t, track in self._tracks.items()
                         if not (0.0 <= stamp - track.stamp <= DEPTH_HOLD_SEC)]:
            del self._tracks[track_id]

    def __len__(self):
        return len(self._tracks)

    def clear(self):
        """Forget every track (a clock jump, depth turned off)."""
        self._tracks.clear()


class FaceLocator:
    """
    Every face's 3D position for one frame: from depth when it can, else monocular, never none.

    Not thread-safe: one worker calls :meth:`locate` per frame. ``settings`` is a
    TrackingConfig (its depth_* fields: the position attribute's parameters).
    """

    def __init__(self, settings: Optional[TrackingConfig] = None):
        self.settings = settings if settings is not None else TrackingConfig()
        self._smoother = DepthSmoother(self.settings.depth_smoothing)

    def update(self, settings: TrackingConfig):
        """Use new settings from the next frame on (tracks kept)."""
        self.settings = settings
        self._smoother.alpha = settings.depth_smoothing

    def locate(self, faces: Sequence[Face], intrinsics: Optional[Intrinsics],
               depth: Optional[DepthFrame], depth_reason: Optional[str],
               colour_frame_id: str, colour_size: Tuple[int, int], stamp: float
               ) -> Tuple[Optional[List[FacePosition]], Optional[str]]:
        """
        Return (one FacePosition per face in order, or None without intrinsics; frame reason).

        ``depth`` is the matched depth frame or None with ``depth_reason`` (None when depth is
        off). The frame reason is why this frame's depth was not used (registration included),
        None when it was or depth is off. Faces without a track id are measured, not smoothed.
        """
        if intrinsics is None:
            return None, NO_INTRINSICS
        reason = depth_reason
        scale = None
        if depth is not None:
            try:
                scale = check_registration(depth, colour_frame_id, colour_size)
            except DepthError as e:
                reason = e.reason
        settings = self.settings
        positions = []
        for face in faces:
            position = None
            face_reason = reason
            if scale is not None:
                measured = measure_face(depth, scale, face.box, face.landmarks,
                                        (settings.depth_min, settings.depth_max),
                                        settings.depth_min_pixels)
                if isinstance(measured, DepthMeasurement):
                    mono_z = float(face_geometry.face_position(
                        face.box, face.landmarks, face.head_pose, intrinsics)[2])
                    low, high = MONOCULAR_AGREEMENT
                    if low * mono_z <= measured.z <= high * mono_z:
                        position = self._from_depth(face, measured, intrinsics, stamp)
                    else:
                        face_reason = IMPLAUSIBLE
                else:
                    face_reason = measured
            if position is None and face.track_id is not None and scale is not None:
                held = self._smoother.held(face.track_id, stamp)
                if held is not None:
                    position = self._position(face, held[0], held[1], intrinsics,
                                              SOURCE_HELD, face_reason)
            if position is None:
                position = monocular_position(face, intrinsics, face_reason)
            positions.append(position)
        # Bounds the tracks kept to those of the last DEPTH_HOLD_SEC.
        self._smoother.expire(stamp)
        return positions, reason

    def _from_depth(self, face, measured, intrinsics, stamp) -> FacePosition:
        if face.track_id is None:
            return self._position(face, measured.z, measured.sigma, intrinsics, SOURCE_DEPTH,
                                  None, measured.pixels)
        z, sigma, accepted = self._smoother.update(face.track_id, measured, stamp)
        if not accepted:
            return self._position(face, z, sigma, intrinsics, SOURCE_HELD, OUTLIER,
                                  measured.pixels)
        return self._position(face, z, sigma, intrinsics, SOURCE_DEPTH, None, measured.pixels)

    @staticmethod
    def _position(face, z, sigma, intrinsics, source, reason, pixels=0) -> FacePosition:
        pixel = face_geometry.sellion_pixel(face.box, face.landmarks)
        point = back_project(pixel, z, intrinsics)
        return FacePosition(position=tuple(float(v) for v in point), sigma=_sigmas(z, sigma),
                            source=source, reason=reason, pixels=pixels)
