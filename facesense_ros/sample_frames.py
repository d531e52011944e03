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
Real face frames for tests, demos and benchmarks, built from photos bundled with scikit-image.

The faces are real photographs (the astronaut Eileen Collins and the cameraman), cut out with
some context around the head so that a detector sees a face, and pasted with a feathered edge on
a real photo without people (the rocket). Every function returns BGR uint8 images and the face
boxes that were pasted, as ``(x_min, y_min, x_max, y_max)`` floats in frame pixels.

scikit-image is only needed by this module, and only when it is called: it is not a run-time
dependency of the package.
"""

import functools
from typing import List, Sequence, Tuple

import cv2
import numpy as np

Box = Tuple[float, float, float, float]

# Face boxes in the original skimage photos, as face-detection-0102 finds them (score 0.998):
# (photo name, x_min, y_min, x_max, y_max). The crops are built around these boxes.
_SOURCE_FACES = (
    ('astronaut', 180.0, 59.0, 270.0, 179.0),
    ('camera', 196.0, 113.0, 259.0, 197.0),
)
# A crop is the face box enlarged this much around its center: enough hair, neck and background
# for the detector to see a head, while the feathered rim stays outside the face box.
CONTEXT_SCALE = 1.6
# Fraction of the crop's width/height over which the pasted crop fades into the background;
# smaller than the context margin ((1.6 - 1) / 2 / 1.6 = 0.19) so the face itself is opaque.
FEATHER = 0.15
# skimage's rocket: a real photo without people on which face-detection-0102 finds nothing.
DEFAULT_BACKGROUND = 'rocket'
# Random placements tried per face before compose_frame gives up on a crowded frame.
PLACEMENT_ATTEMPTS = 2000


class SampleFramesError(RuntimeError):
    """scikit-image (the source of the photos) is missing, or a photo cannot be read."""


def _skimage_photo(name: str) -> np.ndarray:
    """Return skimage.data.<name>() as BGR uint8."""
    try:
        import skimage.data
    except ImportError as e:
        raise SampleFramesError(
            'facesense_ros.sample_frames needs scikit-image for its bundled photos: '
            'pip install scikit-image (or apt install python3-skimage)') from e
    loader = getattr(skimage.data, name, None)
    if loader is None:
        raise SampleFramesError(f'skimage.data has no photo {name!r}')
    image = np.asarray(loader())
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2BGR)


def _source_crop(name, x_min, y_min, x_max, y_max):
    """Cut the face with context; return (crop, face box inside the crop)."""
    photo = _skimage_photo(name)
    cx, cy = (x_min + x_max) / 2.0, (y_min + y_max) / 2.0
    half_w = (x_max - x_min) * CONTEXT_SCALE / 2.0
    half_h = (y_max - y_min) * CONTEXT_SCALE / 2.0
    left, top = int(round(cx - half_w)), int(round(cy - half_h))
    right, bottom = int(round(cx + half_w)), int(round(cy + half_h))
    crop = photo[top:bottom, left:right].copy()
    return crop, (x_min - left, y_min - top, x_max - left, y_max - top)


def _adjust(image, contrast, brightness, tint=(1.0, 1.0, 1.0)):
    """Return contrast * image + brightness, per-channel tinted, as uint8."""
    out = image.astype(np.float32) * contrast + brightness
    out *= np.asarray(tint, np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def _flip(crop, box):
    width = crop.shape[1]
    return crop[:, ::-1].copy(), (width - box[2], box[1], width - box[0], box[3])


@functools.lru_cache(maxsize=1)
def _face_library() -> Tuple[Tuple[np.ndarray, Box], ...]:
    """Distinct face crops, each with its face box in crop pixels (cached, read-only arrays)."""
    astronaut, a_box = _source_crop(*_SOURCE_FACES[0])
    camera, c_box = _source_crop(*_SOURCE_FACES[1])
    flipped_astronaut, fa_box = _flip(astronaut, a_box)
    flipped_camera, fc_box = _flip(camera, c_box)
    library = (
        (astronaut, a_box),
        (camera, c_box),
        # Darker, flatter light and a flipped pose: not the same patch twice in a frame.
        (_adjust(flipped_astronaut, 0.75, -10.0), fa_box),
        (_adjust(flipped_camera, 1.2, 20.0, tint=(0.85, 0.95, 1.1)), fc_box),
        (_adjust(astronaut, 1.15, 15.0, tint=(1.1, 1.0, 0.9)), a_box),
        (_adjust(camera, 0.8, 25.0), c_box),
    )
    for crop, _ in library:
        crop.flags.writeable = False
    return library


def face_photos() -> List[np.ndarray]:
    """
    Return a few distinct real face crops (BGR uint8) with context around the head.

    The astronaut and the cameraman, plus flipped and relit variants of both. Each face fills
    the central 1/1.6 of its crop's width and height.
    """
    return [crop.copy() for crop, _ in _face_library()]


def _background(background, size) -> np.ndarray:
    width, height = size
    if background is None:
        background = DEFAULT_BACKGROUND
    if isinstance(background, str):
        background = _skimage_photo(background)
    background = np.asarray(background)
    if background.dtype != np.uint8 or background.ndim not in (2, 3):
        raise ValueError('background must be a uint8 HxW or HxWx3 BGR image or a skimage.data '
                         f'photo name, got {background.dtype} {background.shape}')
    if background.ndim == 2:
        background = cv2.cvtColor(background, cv2.COLOR_GRAY2BGR)
    return cv2.resize(background, (width, height), interpolation=cv2.INTER_AREA)


def _feather_mask(height, width) -> np.ndarray:
    """Alpha of a pasted crop: 1 inside, ramping to 0 at the rim (HxWx1 float32)."""
    ramp_x = np.minimum(np.arange(width), np.arange(width)[::-1]) / max(1.0, FEATHER * width)
    ramp_y = np.minimum(np.arange(height), np.arange(height)[::-1]) / max(1.0, FEATHER * height)
    mask = np.outer(np.clip(ramp_y, 0, 1), np.clip(ramp_x, 0, 1)).astype(np.float32)
    return mask[..., None]


def _scaled_face(index, face_height):
    """Return (patch, face box in patch pixels) of library face ``index`` at ``face_height``."""
    crop, box = _face_library()[index % len(_face_library())]
    scale = face_height / (box[3] - box[1])
    width = max(1, int(round(crop.shape[1] * scale)))
    height = max(1, int(round(crop.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    patch = cv2.resize(crop, (width, height), interpolation=interpolation)
    sx, sy = width / crop.shape[1], height / crop.shape[0]
    return patch, (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


def _paste(frame, patch, left, top):
    """Blend ``patch`` into ``frame`` with its top-left corner at (left, top); clips at edges."""
    frame_h, frame_w = frame.shape[:2]
    patch_h, patch_w = patch.shape[:2]
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(frame_w, left + patch_w), min(frame_h, top + patch_h)
    if x1 <= x0 or y1 <= y0:
        return
    alpha = _feather_mask(patch_h, patch_w)[y0 - top:y1 - top, x0 - left:x1 - left]
    src = patch[y0 - top:y1 - top, x0 - left:x1 - left].astype(np.float32)
    dst = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = np.clip(src * alpha + dst * (1.0 - alpha) + 0.5, 0, 255).astype(
        np.uint8)


def cut_face(photo: np.ndarray, box: Box) -> Tuple[np.ndarray, Box]:
    """
    Cut a face with context (CONTEXT_SCALE) out of any BGR photo; edge-padded where it leaves it.

    Returns (crop, the face box in crop pixels), ready for :func:`paste_face`.
    """
    x_min, y_min, x_max, y_max = box
    cx, cy = (x_min + x_max) / 2.0, (y_min + y_max) / 2.0
    half_w = (x_max - x_min) * CONTEXT_SCALE / 2.0
    half_h = (y_max - y_min) * CONTEXT_SCALE / 2.0
    left, top = int(round(cx - half_w)), int(round(cy - half_h))
    right, bottom = int(round(cx + half_w)), int(round(cy + half_h))
    pad = max(0, -left, -top, right - photo.shape[1], bottom - photo.shape[0])
    padded = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = padded[top + pad:bottom + pad, left + pad:right + pad].copy()
    return crop, (x_min - left, y_min - top, x_max - left, y_max - top)


def paste_face(frame: np.ndarray, crop: np.ndarray, box: Box, face_height: float,
               center: Tuple[float, float], contrast: float = 1.0,
               brightness: float = 0.0) -> Box:
    """
    Paste a :func:`cut_face` crop into ``frame`` (in place), scaled and relit; return its box.

    The face box becomes ``face_height`` pixels high with its center at ``center``; its pixels
    are ``contrast * value + brightness``. The crop's rim is feathered into the frame.
    """
    scale = face_height / (box[3] - box[1])
    width = max(1, int(round(crop.shape[1] * scale)))
    height = max(1, int(round(crop.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    patch = _adjust(cv2.resize(crop, (width, height), interpolation=interpolation),
                    contrast, brightness)
    sx, sy = width / crop.shape[1], height / crop.shape[0]
    face = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    left = int(round(center[0] - (face[0] + face[2]) / 2.0))
    top = int(round(center[1] - (face[1] + face[3]) / 2.0))
    _paste(frame, patch, left, top)
    return (left + face[0], top + face[1], left + face[2], top + face[3])


def compose_frame(n_faces: int, size: Tuple[int, int] = (640, 480),
                  face_px: Tuple[int, int] = (64, 200), seed: int = 0,
                  background=None) -> Tuple[np.ndarray, List[Box]]:
    """
    Paste ``n_faces`` real faces without overlap at random positions and sizes.

    ``size`` is (width, height); each face box is between ``face_px[0]`` and ``face_px[1]``
    pixels high; ``background`` is a BGR image (resized to ``size``), a skimage.data photo name,
    or None for the rocket. Deterministic for a given ``seed``. Returns (frame, boxes): the BGR
    uint8 frame and the pasted face boxes, in the order the faces were placed.
    Raises ValueError when the faces cannot fit in the frame.
    """
    width, height = int(size[0]), int(size[1])
    if n_faces < 0 or face_px[0] <= 0 or face_px[1] < face_px[0]:
        raise ValueError(f'need n_faces >= 0 and 0 < face_px[0] <= face_px[1], got {n_faces}, '
                         f'{face_px}')
    rng = np.random.default_rng(seed)
    frame = _background(background, (width, height)).copy()
    placed = []  # patch rectangles, so that neither faces nor their context overlap
    boxes = []
    order = rng.permutation(max(n_faces, len(_face_library())))
    for k in range(n_faces):
        for _ in range(PLACEMENT_ATTEMPTS):
            face_height = float(rng.uniform(face_px[0], face_px[1]))
            patch, box = _scaled_face(int(order[k % len(order)]), face_height)
            patch_h, patch_w = patch.shape[:2]
            if patch_w > width or patch_h > height:
                continue
            left = int(rng.integers(0, width - patch_w + 1))
            top = int(rng.integers(0, height - patch_h + 1))
            rect = (left, top, left + patch_w, top + patch_h)
            if all(rect[2] <= r[0] or r[2] <= rect[0] or rect[3] <= r[1] or r[3] <= rect[1]
                   for r in placed):
                break
        else:
            raise ValueError(f'cannot place {n_faces} faces of {face_px} px in a {width}x{height} '
                             'frame without overlap: use fewer or smaller faces')
        placed.append(rect)
        _paste(frame, patch, left, top)
        boxes.append((left + box[0], top + box[1], left + box[2], top + box[3]))
    return frame, boxes


def _piecewise(t: float, knots: Sequence[Tuple[float, float]]) -> float:
    """Linear interpolation of (time, value) knots at time t in [0, 1]."""
    times, values = zip(*knots)
    return float(np.interp(t, times, values))


# Face height (px) of the people in moving_sequence: well above the attribute models' 62/64 px.
MOVING_FACE_PX = 90
# A face counts as in the frame while at least this fraction of its box is inside it.
MIN_VISIBLE_FRACTION = 0.5


def _trajectory(person: int, t: float, width: int, height: int) -> Tuple[float, float]:
    """Face center (x, y) of ``person`` at time t in [0, 1], for a width x height frame."""
    if person == 0:
        # Walks left to right across the upper half.
        return (_piecewise(t, ((0.0, 0.15 * width), (1.0, 0.8 * width))), 0.3 * height)
    if person == 1:
        # Walks right to left just below person 0 (their paths cross near t = 0.3), leaves the
        # frame on the left, then comes back.
        x = _piecewise(t, ((0.0, 0.65 * width), (0.65, -0.12 * width), (1.0, 0.2 * width)))
        return (x, 0.3 * height + 1.35 * MOVING_FACE_PX)
    # Anyone else drifts slowly along the bottom row.
    slot = (person - 2) % 4
    x = (0.15 + 0.22 * slot) * width + 0.05 * width * np.sin(2.0 * np.pi * t + person)
    return (float(x), height - 0.6 * MOVING_FACE_PX - 0.1 * height * (person // 6))


def moving_sequence(n_frames: int = 60, n_faces: int = 2, size: Tuple[int, int] = (640, 480),
                    seed: int = 0) -> List[Tuple[np.ndarray, List[Tuple[int, Box]]]]:
    """
    Real faces sliding smoothly over a real background, for tracking tests and demos.

    Person 0 walks left to right; person 1 walks right to left past person 0 (their paths
    cross), leaves the frame on the left and comes back; others drift along the bottom. Faces
    are ``MOVING_FACE_PX`` high and move a few pixels per frame (13 px at most over 60 frames
    of 640 px). Deterministic: ``seed`` only picks which photo each person wears.
    Returns, for every frame, (frame, [(person_index, box), ...]) with the face boxes clamped to
    the frame; a person is listed while at least half of their face box is inside it.
    """
    width, height = int(size[0]), int(size[1])
    if n_frames < 1 or n_faces < 0:
        raise ValueError(f'need n_frames >= 1 and n_faces >= 0, got {n_frames}, {n_faces}')
    rng = np.random.default_rng(seed)
    library_size = len(_face_library())
    first = int(rng.integers(0, library_size))
    # Distinct photos per person, so that an id swap would be visible in a demo.
    photos = [(first + p) % library_size for p in range(n_faces)]
    patches = [_scaled_face(photo, MOVING_FACE_PX) for photo in photos]
    background = _background(None, (width, height))
    sequence = []
    for i in range(n_frames):
        t = i / (n_frames - 1) if n_frames > 1 else 0.0
        frame = background.copy()
        people = []
        for person, (patch, box) in enumerate(patches):
            cx, cy = _trajectory(person, t, width, height)
            left = int(round(cx - (box[0] + box[2]) / 2.0))
            top = int(round(cy - (box[1] + box[3]) / 2.0))
            _paste(frame, patch, left, top)
            full = (left + box[0], top + box[1], left + box[2], top + box[3])
            clamped = (max(0.0, full[0]), max(0.0, full[1]),
                       min(float(width), full[2]), min(float(height), full[3]))
            visible = max(0.0, clamped[2] - clamped[0]) * max(0.0, clamped[3] - clamped[1])
            area = (full[2] - full[0]) * (full[3] - full[1])
            if visible >= MIN_VISIBLE_FRACTION * area:
                people.append((person, clamped))
        sequence.append((frame, people))
    return sequence


def astronaut() -> np.ndarray:
    """Return skimage's astronaut photo (Eileen Collins, one clear face) as BGR uint8."""
    return _skimage_photo('astronaut')


def photo(name: str) -> np.ndarray:
    """Return any skimage.data photo by name as BGR uint8 (e.g. 'camera', 'rocket')."""
    return _skimage_photo(name)
