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
SIGINT and SIGTERM as a stop request that the main thread acts on when it is safe to.

rclpy's own handlers (``SignalHandlerOptions.ALL``) shut the ROS context down from a thread of
their own the moment a signal lands: whatever the main thread does then (creating the node,
logging while models load) fails on an invalid context, hence "Failed to publish log message
to rosout" lines and, when it lands inside the node's creation, an uncaught RCLError and exit
code 1. Before rclpy.init, no handler at all: SIGTERM killed the process during its imports.
``StopSignals.install()`` runs first thing in the console script, sets a flag and calls the
registered wake-up callbacks; the main thread checks the flag between models and while
spinning, tears the node down, then shuts ROS down itself. No ROS here.
"""

import signal
import threading
from typing import Callable, List, Optional

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """The stop request made by SIGINT or SIGTERM; a second signal changes nothing."""

    def __init__(self):
        self._event = threading.Event()
        self.signal: Optional[int] = None
        self._wake: List[Callable[[], None]] = []

    @classmethod
    def install(cls) -> 'StopSignals':
        """Handle SIGINT and SIGTERM from now on (main thread only); return the request."""
        stop = cls()
        for sig in SIGNALS:
            signal.signal(sig, stop._on_signal)
        return stop

    def _on_signal(self, signum, frame):
        self.request(signum)

    def request(self, signum: Optional[int] = None):
        """Record a stop request, as a signal does, and wake whoever registered for it."""
        if self._event.is_set():
            return
        self.signal = signum
        self._event.set()
        for wake in self._wake:
            wake()

    def on_request(self, wake: Callable[[], None]):
        """Call ``wake()`` when a stop is requested (e.g. to wake an executor)."""
        self._wake.append(wake)

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self._event.is_set()
