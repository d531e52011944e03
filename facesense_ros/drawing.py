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
Annotated images: a box and a label per face, optionally with the faces blurred or pixelated.

Everything is drawn with vectorised OpenCV calls on a copy of the input. Boxes are drawn just
inside the face box, the head-pose axes and the five landmarks clipped to it, and labels in a
rectangle returned by :func:`label_rect`, so every pixel outside the face boxes and label
rectangles is exactly the input's.
"""

import math
from typing import Optional, Sequence, Tuple

import cv2
from facesense_ros.attributes import ATTRIBUTES, label_parts
from facesense_ros.config import PRIVACY_MODES
from facesense_ros.face import Face
import numpy as np

Rect = Tuple[int, int, int, int]

FONT = cv2.FONT_HERSHEY_SIMPLEX
# Font scale per pixel of the image's shorter side: 0.6 on a 480-line image is readable on a
# laptop screen in rviz2 without covering small faces.
FONT_SCALE_PER_PIXEL = 0.6 / 480.0
# Below this the Hershey glyphs become unreadable blobs, whatever the image size.
MIN_FONT_SCALE = 0.35
# Empty pixels around the label text, as a fraction of the text height.
LABEL_PADDING = 0.3
# Box line thickness per pixel of the image's shorter side (2 px on 480 lines).
BOX_THICKNESS_PER_PIXEL = 2.0 / 480.0
# Faces with a track id cycle through these (BGR) so that neighbours are told apart; chosen
# for contrast with skin tones and with each other.
TRACK_COLORS = (
    (0, 200, 0), (255, 128, 0), (0, 165, 255), (255, 0, 255),
    (0, 255, 255), (255, 255, 0), (128, 0, 255), (0, 0, 255),
)
# Faces without an id (tracking off) all get the first colour.
UNTRACKED_COLOR = TRACK_COLORS[0]
# Text is black on light label backgrounds and white on dark ones; this is the luma threshold.
LIGHT_BACKGROUND_LUMA = 140.0
# Gaussian kernel of the 'blur' mode, as a fraction of the box's longer side, and its sigma
# as a fraction of the kernel: eyes, nose and mouth merge into one smudge (on skimage's
# astronaut the mean change is 31/255; OpenCV's default sigma for the kernel gives only 27).
BLUR_KERNEL_FRACTION = 0.5
BLUR_SIGMA_FRACTION = 0.25
# The blur runs on the face scaled down until its kernel is about this many pixels wide.
BLUR_WORKING_KERNEL = 16
# 'pixelate' turns each face box into this many blocks per side: 8x8 keeps the head's outline
# but no identity.
PIXELATE_BLOCKS = 8


class DrawingError(ValueError):
    """An argument of annotate() is not usable (unknown privacy mode, not a BGR image)."""


def format_label(face: Face) -> str:
    """
    Return the label text of a face, e.g. ``#3 F 34 happy``.

    The track id, then each computed attribute's word (attributes.ATTRIBUTES' ``label``);
    parts whose value is None are left out; an empty string when nothing is known.
    """
    head = () if face.track_id is None else (f'#{face.track_id}',)
    return ' '.join(head + label_parts(face))


def face_color(face: Face) -> Tuple[int, int, int]:
    """BGR colour of a face's box and label: fixed per track id."""
    if face.track_id is None:
        return UNTRACKED_COLOR
    return TRACK_COLORS[face.track_id % len(TRACK_COLORS)]


def _style(shape) -> Tuple[float, int, int]:
    """Return (font scale, text thickness, box thickness) for an image of ``shape``."""
    short_side = min(shape[0], shape[1])
    scale = max(MIN_FONT_SCALE, short_side * FONT_SCALE_PER_PIXEL)
    text_thickness = max(1, int(round(scale * 1.5)))
    box_thickness = max(1, int(round(short_side * BOX_THICKNESS_PER_PIXEL)))
    return scale, text_thickness, box_thickness


def box_rect(face, shape) -> Optional[Rect]:
    """
    Return the face box as integer pixels (x0, y0, x1, y1), x1/y1 exclusive, clipped to shape.

    ``face`` is a Face or an (x_min, y_min, x_max, y_max) box. Covers every pixel the float
    box touches; None when nothing of it is inside the image.
    """
    x_min, y_min, x_max, y_max = face.box if isinstance(face, Face) else face
    height, width = shape[0], shape[1]
    x0 = max(0, int(math.floor(x_min)))
    y0 = max(0, int(math.floor(y_min)))
    x1 = min(width, int(math.ceil(x_max)))
    y1 = min(height, int(math.ceil(y_max)))
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1, y1)


def label_rect(face: Face, shape) -> Optional[Rect]:
    """
    Return where the label of ``face`` goes in an image of ``shape`` as (x0, y0, x1, y1).

    Above the box, or just inside its top edge when there is no room above; moved left when it
    would leave the image on the right; clipped to the image. None when the label is empty or
    the box is outside the image.
    """
    text = format_label(face)
    box = box_rect(face, shape)
    if not text or box is None:
        return None
    height, width = shape[0], shape[1]
    scale, thickness, _ = _style(shape)
    (text_w, text_h), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(1, int(round(text_h * LABEL_PADDING)))
    label_w = text_w + 2 * pad
    label_h = text_h + baseline + 2 * pad
    x0 = max(0, min(box[0], width - label_w))
    y0 = box[1] - label_h
    if y0 < 0:
        y0 = box[1]
    x1 = min(width, x0 + label_w)
    y1 = min(height, y0 + label_h)
    return (x0, y0, x1, y1)


def _blur(roi: np.ndarray) -> np.ndarray:
    kernel = max(3, int(max(roi.shape[:2]) * BLUR_KERNEL_FRACTION) | 1)
    sigma = kernel * BLUR_SIGMA_FRACTION
    # A blur this strong looks the same computed on a downscaled face and scaled back up (mean
    # difference 1/255 on the astronaut) and costs 60x less than the full-size kernel.
    factor = max(1, kernel // BLUR_WORKING_KERNEL)
    height, width = roi.shape[:2]
    small = cv2.resize(roi, (max(1, width // factor), max(1, height // factor)),
                       interpolation=cv2.INTER_AREA)
    small_kernel = max(3, (kernel // factor) | 1)
    small = cv2.GaussianBlur(small, (small_kernel, small_kernel), sigma / factor,
                             borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _pixelate(roi: np.ndarray) -> np.ndarray:
    height, width = roi.shape[:2]
    small = cv2.resize(roi, (min(PIXELATE_BLOCKS, width), min(PIXELATE_BLOCKS, height)),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def hide_faces(image_bgr: np.ndarray, faces: Sequence, mode: str) -> np.ndarray:
    """
    Return a copy of the image with every face box blurred or pixelated (``mode``).

    ``faces`` are Faces or (x_min, y_min, x_max, y_max) boxes; 'off' returns an unchanged
    copy. Only pixels inside the boxes change.
    """
    if mode not in PRIVACY_MODES:
        raise DrawingError(f'privacy_mode must be one of {list(PRIVACY_MODES)}, got {mode!r}')
    out = np.array(image_bgr, copy=True)
    if mode == 'off':
        return out
    hide = _blur if mode == 'blur' else _pixelate
    # All hiding reads the original, so that overlapping boxes do not blur twice.
    source = np.asarray(image_bgr)
    for face in faces:
        rect = box_rect(face, out.shape)
        if rect is None:
            continue
        x0, y0, x1, y1 = rect
        out[y0:y1, x0:x1] = hide(source[y0:y1, x0:x1])
    return out


# The attributes that draw into the face box (head-pose axes, then landmarks on top).
_DRAWN = tuple(a for a in ATTRIBUTES if a.draw is not None)


def draw_geometry(out: np.ndarray, face: Face, thickness: int) -> None:
    """
    Draw what ``face``'s attributes draw (head-pose axes, landmarks) into ``out``, in its box.

    Each attribute's ``draw`` of attributes.ATTRIBUTES draws on a copy of the box's pixels,
    so nothing leaks outside the box. Nothing is drawn for a face without such attributes, or
    outside the image.
    """
    rect = box_rect(face, out.shape)
    drawn = [a for a in _DRAWN if getattr(face, a.field) is not None]
    if rect is None or not drawn:
        return
    x0, y0, x1, y1 = rect
    # Drawn on a copy of the box's pixels: OpenCV clips to it, nothing leaks outside the box.
    patch = np.ascontiguousarray(out[y0:y1, x0:x1])

    def local(point):
        return (int(round(point[0] - x0)), int(round(point[1] - y0)))
    for attribute in drawn:
        attribute.draw(patch, face, local, thickness)
    out[y0:y1, x0:x1] = patch


def annotate(image_bgr: np.ndarray, faces: Sequence[Face], privacy_mode: str = 'off',
             hidden_boxes: Sequence[Tuple[float, float, float, float]] = ()) -> np.ndarray:
    """
    Return a new image with a box and a ``#id F 34 happy`` label per face.

    Faces with a head pose get its axes, faces with landmarks their five points (draw_geometry).

    ``image_bgr`` is an HxWx3 uint8 BGR image and is never modified. With ``privacy_mode``
    'blur' or 'pixelate' the face boxes, and ``hidden_boxes`` (e.g. FacePerception's
    ``lost_boxes``: where faces missed in this frame probably are), are hidden first; boxes and
    labels are drawn on top, for ``faces`` only. Raises DrawingError for an unknown mode or an
    image that is not HxWx3 uint8.
    """
    image = np.asarray(image_bgr)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DrawingError(f'annotate needs an HxWx3 uint8 BGR image, got {image.dtype} '
                           f'{image.shape}')
    out = hide_faces(image, list(faces) + list(hidden_boxes), privacy_mode)
    scale, text_thickness, box_thickness = _style(out.shape)
    for face in faces:
        rect = box_rect(face, out.shape)
        if rect is None:
            continue
        x0, y0, x1, y1 = rect
        color = face_color(face)
        # Four filled strips just inside the box: the outline never covers pixels outside it.
        t = min(box_thickness, (x1 - x0 + 1) // 2, (y1 - y0 + 1) // 2)
        out[y0:y0 + t, x0:x1] = color
        out[y1 - t:y1, x0:x1] = color
        out[y0:y1, x0:x0 + t] = color
        out[y0:y1, x1 - t:x1] = color
        draw_geometry(out, face, box_thickness)
    for face in faces:
        rect = label_rect(face, out.shape)
        if rect is None:
            continue
        x0, y0, x1, y1 = rect
        color = face_color(face)
        text = format_label(face)
        (_, text_h), baseline = cv2.getTextSize(text, FONT, scale, text_thickness)
        pad = max(1, int(round(text_h * LABEL_PADDING)))
        luma = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
        text_color = (0, 0, 0) if luma > LIGHT_BACKGROUND_LUMA else (255, 255, 255)
        # Draw on the label's own patch so glyph overhangs are clipped to the label rectangle.
        patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
        patch[:] = color
        cv2.putText(patch, text, (pad, pad + text_h), FONT, scale, text_color, text_thickness,
                    cv2.LINE_AA)
        out[y0:y1, x0:x1] = patch
    return out
