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
The ``facesense_node`` console script: SIGINT/SIGTERM handled before anything else is imported.

Importing the node (rclpy, OpenCV, OpenVINO) takes most of a second; a signal in that time
used to kill the process (SIGTERM, exit -15) or print a KeyboardInterrupt traceback (SIGINT).
Handled from the first line, it stops the start-up cleanly with exit 0.
"""

import sys

from facesense_ros.stop_signals import StopSignals


def main(args=None):
    """Install the stop handlers, then import and run the node (node.run)."""
    stop = StopSignals.install()
    # Imported only now, so that the handlers above cover its import time.
    from facesense_ros.node import run
    sys.exit(run(stop, args))
