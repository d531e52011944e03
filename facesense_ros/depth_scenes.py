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
RGB-D test scenes: real face photos pasted at known distances, and the depth image they'd give.

The colour frame is sample_frames' real photos (the astronaut, the cameraman and variants) on
the rocket photo, each face scaled to the size a 0.15 m wide face has at its distance through
a RealSense-like 640x480 camera. The depth image renders, in the same optical frame and field
of view (optionally at a lower resolution), what an RGB-D sensor sees:

- each head as an ellipsoid (its front at the face's distance, the sides 9 cm behind), the nose
  2.5 cm in front of it and the eye sockets 1 cm behind, shoulders below it;
- a wall behind everyone, and optionally an object in front of part of one face;
- noise of sigma NOISE_PER_M2 * z^2, flying pixels (values between foreground and background)
  along depth edges, 10-30 % holes in blobs and specks.

The truth of a face is the noiseless depth of its surface at the sellion (the eyes' midpoint),
the point whose 3D position the node publishes. scikit-image (sample_frames) is needed.
"""

from dataclasses import dataclass
import math
from typing import List, Optional, Tuple

import cv2
from facesense_ros import face_geometry
from facesense_ros.sample_frames import _face_library, _paste, _scaled_face
import numpy as np

# A RealSense D435's colour camera at 640x480 (fx ~ 615 px, 55 x 43 degrees).
SIZE = (640, 480)
INTRINSICS = (615.0, 615.0, 319.5, 239.5)
# The metric width of a face box (face_geometry's nominal width): a face at z is
# fx * FACE_WIDTH_M / z pixels wide.
FACE_WIDTH_M = face_geometry.NOMINAL_FACE_BOX_WIDTH_M
# landmarks-regression-retail-0009's five points on the two source photos, as fractions of
# sample_frames' face boxes (measured here with the real models; LANDMARK_NAMES order).
_SOURCE_LANDMARKS = (
    ((0.274, 0.342), (0.740, 0.366), (0.495, 0.568), (0.260, 0.670), (0.726, 0.688)),
    ((0.630, 0.379), (0.945, 0.384), (0.893, 0.641), (0.560, 0.796), (0.834, 0.801)),
)
# Head shape: depth of the sides behind the face's front (m), the head's half-size relative to
# the face box, the nose's height and the eye sockets' depth (m) and their widths (fraction of
# the box width).
HEAD_DEPTH = 0.09
HEAD_HALF = (0.58, 0.62)
NOSE_HEIGHT, NOSE_WIDTH = 0.025, 0.08
EYE_DEPTH, EYE_WIDTH = 0.01, 0.06
# Sensor noise sigma = NOISE_PER_M2 * z^2 (m): 1 cm at 2 m, 9 cm at 6 m, between a RealSense
# D455 (under 2 % at 4 m) and a D435 (under 2 % at 2 m).
NOISE_PER_M2 = 0.0025
# Depth edges steeper than this (m between neighbours) get flying pixels with this probability.
EDGE_STEP, FLYING_PROBABILITY = 0.2, 0.5
# The wall behind the people (m), and how far (m) an occluder stands in front of its face.
WALL_RANGE = (7.0, 9.0)
OCCLUDER_GAP = (0.15, 0.4)


@dataclass(frozen=True)
class SceneFace:
    """One pasted face: box and landmarks in colour pixels, its truth distance, occluded or not."""

    box: Tuple[float, float, float, float]
    landmarks: Tuple[Tuple[float, float], ...]
    truth_z: float
    occluded: bool


@dataclass(frozen=True)
class Scene:
    """A colour frame, its registered depth image's bytes, and the faces in it."""

    colour: np.ndarray
    depth_data: bytes
    encoding: str
    depth_size: Tuple[int, int]
    step: int
    faces: List[SceneFace]
    intrinsics: Tuple[float, float, float, float]
    depth_metres: np.ndarray


def _landmarks(index: int, box) -> Tuple[Tuple[float, float], ...]:
    """Return the five points of library face ``index`` (sample_frames' 2 and 3 are flipped)."""
    points = _SOURCE_LANDMARKS[index % 2]
    if index % len(_face_library()) in (2, 3):
        # A mirrored person: their right eye is the mirror of the original's left one.
        mirrored = (points[1], points[0], points[2], points[4], points[3])
        points = tuple((1.0 - x, y) for x, y in mirrored)
    width, height = box[2] - box[0], box[3] - box[1]
    return tuple((box[0] + x * width, box[1] + y * height) for x, y in points)


def _face_surface(xs, ys, box, landmarks, z):
    """Depth of the head's surface at colour pixels (xs, ys) (NaN outside the head)."""
    width, height = box[2] - box[0], box[3] - box[1]
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    u = (xs - cx) / (HEAD_HALF[0] * width)
    v = (ys - cy) / (HEAD_HALF[1] * height)
    r2 = u * u + v * v
    surface = z + HEAD_DEPTH * (1.0 - np.sqrt(np.clip(1.0 - r2, 0.0, 1.0)))
    nose = landmarks[2]
    surface -= NOSE_HEIGHT * np.exp(-((xs - nose[0]) ** 2 + (ys - nose[1]) ** 2)
                                    / (2.0 * (NOSE_WIDTH * width) ** 2))
    for eye in landmarks[:2]:
        surface += EYE_DEPTH * np.exp(-((xs - eye[0]) ** 2 + (ys - eye[1]) ** 2)
                                      / (2.0 * (EYE_WIDTH * width) ** 2))
    surface[r2 > 1.0] = np.nan
    return surface


def render(distances, seed: int = 0, depth_scale: float = 1.0, encoding: str = '16UC1',
           occluder: bool = True, holes: Tuple[float, float] = (0.1, 0.3),
           noise: float = NOISE_PER_M2, size=SIZE, intrinsics=INTRINSICS) -> Scene:
    """
    Return a Scene with one real face per entry of ``distances`` (m, 0.5 to 6), side by side.

    ``depth_scale``: depth width / colour width (0.5 = half resolution); ``encoding`` 16UC1
    (mm, holes 0) or 32FC1 (m, holes NaN, inf or 0); ``occluder``: an object 15-40 cm in front
    of the lower outer quarter of the first face; ``holes``: the fraction's range. Raises
    ValueError when the faces do not fit side by side.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    fx = intrinsics[0]
    colour = cv2.resize(_background_photo(), (width, height), interpolation=cv2.INTER_AREA)
    library = len(_face_library())
    faces = []
    slots = _slots(distances, fx, width, rng)
    for k, (z, left) in enumerate(zip(distances, slots)):
        index = int(rng.integers(0, library))
        face_w = fx * FACE_WIDTH_M / z
        crop_box = _face_library()[index][1]
        face_h = face_w * (crop_box[3] - crop_box[1]) / (crop_box[2] - crop_box[0])
        patch, pbox = _scaled_face(index, face_h)
        top_max = max(1, int(height - patch.shape[0]))
        top = int(rng.integers(0, top_max)) if patch.shape[0] < height else \
            -int((patch.shape[0] - height) / 2)
        _paste(colour, patch, left, top)
        box = (left + pbox[0], top + pbox[1], left + pbox[2], top + pbox[3])
        faces.append((box, _landmarks(index, box), float(z)))
    dw, dh = max(1, int(round(width * depth_scale))), max(1, int(round(height * depth_scale)))
    # Depth pixel centers in colour pixel coordinates (the same field of view).
    xs, ys = np.meshgrid((np.arange(dw) + 0.5) / depth_scale - 0.5,
                         (np.arange(dh) + 0.5) / depth_scale - 0.5)
    wall = rng.uniform(*WALL_RANGE)
    depth = (wall + 0.5 * (ys / height - 0.5)).astype(np.float64)
    scene_faces = []
    for k, (box, landmarks, z) in enumerate(faces):
        fw, fh = box[2] - box[0], box[3] - box[1]
        # Shoulders: a slab below the head, 10 cm behind the face.
        shoulders = (np.abs(xs - (box[0] + box[2]) / 2.0) < 0.9 * fw) & (ys > box[3] + 0.3 * fh)
        depth = np.where(shoulders & (z + 0.1 < depth), z + 0.1, depth)
        surface = _face_surface(xs, ys, box, landmarks, z)
        inside = np.isfinite(surface) & (surface < depth)
        depth = np.where(inside, surface, depth)
        sellion = face_geometry.sellion_pixel(box, landmarks)
        truth = float(_face_surface(np.array([sellion[0]]), np.array([sellion[1]]), box,
                                    landmarks, z)[0])
        occluded = occluder and k == 0
        if occluded:
            # The lower outer quarter of the face: a hand or a cup in front of it.
            ox0, oy0 = box[0] - 0.1 * fw, box[1] + 0.6 * fh
            ox1, oy1 = box[0] + 0.45 * fw, box[3] + 0.1 * fh
            cv2.rectangle(colour, (int(ox0), int(oy0)), (int(ox1), int(oy1)), (90, 120, 160),
                          -1)
            in_front = (xs >= ox0) & (xs <= ox1) & (ys >= oy0) & (ys <= oy1)
            depth = np.where(in_front, z - rng.uniform(*OCCLUDER_GAP), depth)
        scene_faces.append(SceneFace(box=box, landmarks=landmarks, truth_z=truth,
                                     occluded=occluded))
    depth_metres = _sensor(depth, rng, noise, holes)
    data, step = _encode(depth_metres, encoding, rng)
    return Scene(colour=colour, depth_data=data, encoding=encoding, depth_size=(dw, dh),
                 step=step, faces=scene_faces, intrinsics=tuple(intrinsics),
                 depth_metres=depth_metres)


def _background_photo() -> np.ndarray:
    from facesense_ros.sample_frames import photo
    return photo('rocket')


def _slots(distances, fx, width, rng) -> List[int]:
    """Left edges of the faces' patches, side by side without overlap."""
    widths = [int(math.ceil(fx * FACE_WIDTH_M / z * 1.6 * 1.1)) + 2 for z in distances]
    free = width - sum(widths)
    if free < 0:
        raise ValueError(f'{len(distances)} faces at {distances} m do not fit in {width} px')
    cuts = np.sort(rng.integers(0, free + 1, size=len(distances)))
    lefts, x = [], 0
    for cut, w in zip(cuts, widths):
        lefts.append(x + int(cut))
        x += w
    return lefts


def _sensor(depth: np.ndarray, rng, noise: float, holes) -> np.ndarray:
    """Noise growing with z^2, flying pixels at edges, holes: what the sensor reports (m)."""
    clean = depth.astype(np.float32)
    kernel = np.ones((3, 3), np.uint8)
    near, far = cv2.erode(clean, kernel), cv2.dilate(clean, kernel)
    edges = (far - near > EDGE_STEP) & (rng.random(clean.shape) < FLYING_PROBABILITY)
    out = clean + rng.normal(0.0, 1.0, clean.shape).astype(np.float32) * noise * clean ** 2
    out[edges] = (near + rng.random(clean.shape).astype(np.float32) * (far - near))[edges]
    fraction = rng.uniform(*holes)
    # Blobs: smooth random field thresholded at the wanted fraction (two thirds of the holes),
    # plus isolated specks.
    h, w = clean.shape
    field = cv2.resize(rng.random((max(2, h // 12), max(2, w // 12))).astype(np.float32),
                       (w, h), interpolation=cv2.INTER_CUBIC)
    blobs = field < np.quantile(field, fraction * 2.0 / 3.0)
    specks = rng.random(clean.shape) < fraction / 3.0
    out[blobs | specks] = np.nan
    return out


def _encode(depth: np.ndarray, encoding: str, rng) -> Tuple[bytes, int]:
    if encoding == '16UC1':
        mm = np.where(np.isfinite(depth), np.clip(np.rint(depth * 1000.0), 0, 65535), 0)
        raw = mm.astype('<u2')
    elif encoding == '32FC1':
        raw = depth.astype('<f4')
        holes = ~np.isfinite(raw)
        # REP-118: NaN, inf and 0 all mean no measurement.
        pick = rng.random(raw.shape)
        raw[holes & (pick < 0.2)] = np.inf
        raw[holes & (pick > 0.8)] = 0.0
    else:
        raise ValueError(f'depth scenes are 16UC1 or 32FC1, not {encoding!r}')
    return raw.tobytes(), raw.shape[1] * raw.itemsize


def errors(scene: Scene, estimates: List[Optional[float]]) -> List[float]:
    """Return |estimate - truth| / truth per face (NaN where the estimate is None)."""
    return [abs(e - f.truth_z) / f.truth_z if e is not None else float('nan')
            for f, e in zip(scene.faces, estimates)]
