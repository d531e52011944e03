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
The node's side of identity: the gallery's lifetime and REP-155 /humans/candidate_matches.

``NodeIdentity`` opens the face gallery when the ``identity`` parameter is on (and creates no
file otherwise), keeps it current (``refresh`` for changes made by the CLI or another node,
``purge_unnamed`` for ``identity_retention_days``) and publishes hri_msgs/IdsMatch for every
face whose person is known: id1 the REP-155 face id, id2 the person id, their confidence; a
withdrawn or changed match is published again with confidence 0. All of it runs on the node's
worker thread, where the matching happens too. Wiring for the node: docs/identity.md.
"""

import time
from typing import Dict, Optional, Sequence, Tuple

from facesense_ros.face import Face
from facesense_ros.gallery import default_database_path, Gallery, GalleryError
from facesense_ros.identity import GALLERY_WARN_PERIOD_S
from rclpy.qos import QoSProfile, ReliabilityPolicy

try:
    from facesense_ros.hri_conversions import face_id
    from hri_msgs.msg import IdsMatch
except ImportError:
    # No hri_msgs: no candidate matches (like the rest of REP-155, parameter hri).
    IdsMatch = face_id = None

CANDIDATE_MATCHES_TOPIC = '/humans/candidate_matches'
# hri_person_manager subscribes reliable and volatile; a few messages deep for bursts of
# withdrawals when several faces leave at once.
CANDIDATE_MATCHES_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# Seconds between gallery refreshes: changes by the CLI or another node show within ~1 s.
REFRESH_PERIOD_S = 0.5
# Seconds between purges of unnamed persons past identity_retention_days.
PURGE_PERIOD_S = 3600.0
# A held match is published again this often (seconds), for consumers that joined later.
REPUBLISH_PERIOD_S = 1.0


def ids_match(face_id: str, person_id: int, confidence: float):
    """Return the hri_msgs/IdsMatch 'face ``face_id`` is person ``person_id``'."""
    return IdsMatch(id1=face_id, id1_type=IdsMatch.FACE, id2=str(person_id),
                    id2_type=IdsMatch.PERSON, confidence=float(confidence))


def open_gallery(path: str) -> Gallery:
    """Open (or create) the gallery at ``path`` ('' = the default); ValueError, one line."""
    path = path or str(default_database_path())
    try:
        return Gallery(path, create=True)
    except GalleryError as e:
        raise ValueError(f'parameter identity_database: {e}') from e


class NodeIdentity:
    """The gallery and the candidate matches of one node (nothing at all with identity off)."""

    def __init__(self, node, values: Dict[str, object]):
        """Open the gallery when ``values['identity']``; ValueError naming the file if bad."""
        self._node = node
        self.gallery: Optional[Gallery] = None
        self._publisher = None
        self._prefix = None
        # track id -> (person id, confidence, when last published)
        self._published: Dict[int, Tuple[int, float, float]] = {}
        self._last_refresh = self._last_purge = time.monotonic()
        # The names last handed out by names_changed(): the node's LabelInfo carries them.
        self.names: Tuple[str, ...] = ()
        if not values['identity']:
            return
        if not values['tracking']:
            raise ValueError('parameter identity: true needs tracking: true (people are '
                             'identified per track)')
        self.gallery = open_gallery(values['identity_database'])
        self._purge(values['identity_retention_days'])
        self.names = self.gallery.names()
        node.get_logger().info(f'identity on: face gallery {self.gallery.path}')

    def start(self, hri) -> None:
        """Publish candidate matches for ``hri`` (HriPublishers) face ids; None: no output."""
        if self.gallery is None or hri is None or IdsMatch is None:
            return
        self._prefix = hri.prefix
        self._publisher = self._node.create_publisher(IdsMatch, CANDIDATE_MATCHES_TOPIC,
                                                      CANDIDATE_MATCHES_QOS)

    def _purge(self, days: float) -> None:
        if days > 0:
            self.gallery.purge_unnamed(days)

    def names_changed(self) -> bool:
        """Whether the gallery's names changed since the last call (``names`` is then new)."""
        if self.gallery is None:
            return False
        names = self.gallery.names()
        if names == self.names:
            return False
        self.names = names
        return True

    def diagnostics_values(self) -> Dict[str, str]:
        """Return /diagnostics' identity values: on or off, and the gallery's file and size."""
        if self.gallery is None:
            return {'identity': 'off'}
        return {'identity': 'on', 'identity gallery': str(self.gallery.path),
                'identity persons': str(len(self.gallery)),
                'identity named persons': str(len(self.names))}

    def after_frame(self, faces: Sequence[Face], alive_ids: Sequence[int]) -> None:
        """Publish the frame's matches and withdrawals; refresh and purge when due."""
        if self.gallery is None:
            return
        now = time.monotonic()
        try:
            if now - self._last_refresh >= REFRESH_PERIOD_S:
                self._last_refresh = now
                self.gallery.refresh()
            if now - self._last_purge >= PURGE_PERIOD_S:
                self._last_purge = now
                self._purge(self._node.get_parameter('identity_retention_days').value)
        except GalleryError as e:
            # Locked past its busy timeout, or the disk is full: tried again later.
            self._node.get_logger().warning(f'identity: {e}',
                                            throttle_duration_sec=GALLERY_WARN_PERIOD_S)
        if self._publisher is None:
            return
        for face in faces:
            if face.track_id is None:
                continue
            identity = face.identity
            old = self._published.get(face.track_id)
            if identity is None:
                if old is not None:
                    self._withdraw(face.track_id, old[0])
                continue
            if old is not None and old[0] != identity.person_id:
                self._withdraw(face.track_id, old[0])
                old = None
            if old is None or old[1] != identity.confidence or now - old[2] >= REPUBLISH_PERIOD_S:
                self._publisher.publish(ids_match(face_id(self._prefix, face.track_id),
                                                  identity.person_id, identity.confidence))
                self._published[face.track_id] = (identity.person_id, identity.confidence, now)
        # A retired track's face id is gone from /humans/faces/tracked: its match goes too.
        alive = set(alive_ids)
        for track_id in [t for t in self._published if t not in alive]:
            self._withdraw(track_id, self._published[track_id][0])

    def _withdraw(self, track_id: int, person_id: int) -> None:
        self._publisher.publish(ids_match(face_id(self._prefix, track_id), person_id, 0.0))
        del self._published[track_id]

    def close(self) -> None:
        """Destroy the publisher, close the gallery (every change is already committed)."""
        if self._publisher is not None:
            self._node.destroy_publisher(self._publisher)
            self._publisher = None
            self._published.clear()
        if self.gallery is not None:
            self.gallery.close()
            self.gallery = None
