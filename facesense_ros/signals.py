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
SIGINT and SIGTERM as a request to stop, taken at the next safe point of the main thread.

rclpy's own handlers shut the context down from another thread at once: a callback, or a
constructor between ``rclpy.init`` and spinning, that is using the context at that moment
raises ``RCLError`` (exit code 1), and every log line after it fails to reach rosout. The
handlers here only record the signal; the program checks ``STOP`` where stopping is safe
(before creating the node, between executor turns) and shuts down in order itself. Standard
library only: the console script installs them before it imports OpenCV and rclpy.
"""

import signal
from typing import Optional

# The signals that ask a tool to stop: Ctrl-C and what `kill`, systemd and launch send.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Whether SIGINT or SIGTERM arrived since ``install()``; true once one did."""

    def __init__(self):
        """Record nothing yet; ``install()`` starts listening."""
        self.signal: Optional[int] = None

    def install(self) -> 'StopRequest':
        """Make SIGINT and SIGTERM only set this flag (main thread only, as Python requires)."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.signal = signum

    def __bool__(self) -> bool:
        """Return True once a stop signal arrived."""
        return self.signal is not None


# The process's one request: the handlers are per process too.
STOP = StopRequest()


def image_source():
    """Console script ``image_source``: listen for signals first, then import and run it."""
    STOP.install()
    from .image_source import main
    main()
