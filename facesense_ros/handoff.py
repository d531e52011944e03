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
Newest-item hand-off from one thread to a worker thread; an item not taken yet is replaced.

The node's executor thread offers every input frame to the perception worker, and the worker
offers every result to the annotation worker; each worker only ever wants the newest, so a
frame that arrives while the previous one still waits replaces it (and is counted as dropped).
No ROS: tested in test/test_handoff.py.
"""

import threading
from typing import Callable, Optional

# What LatestSlot.take() returns once the slot is closed: the worker's signal to return.
CLOSED = object()


class LatestSlot:
    """One item waiting for a consumer; put() replaces it, take() waits for it."""

    def __init__(self):
        self._ready = threading.Condition()
        self._item = None
        self._full = False
        self._open = True

    def put(self, item) -> bool:
        """Offer ``item``; return True if it replaced one not taken yet (that one is dropped)."""
        with self._ready:
            if not self._open:
                return False
            replaced = self._full
            self._item, self._full = item, True
            self._ready.notify()
            return replaced

    def take(self):
        """Wait for an item and return it; return CLOSED once close() was called."""
        with self._ready:
            while self._open and not self._full:
                self._ready.wait()
            if not self._open:
                return CLOSED
            item, self._item, self._full = self._item, None, False
            return item

    def clear(self) -> bool:
        """Drop the waiting item, if any; return whether there was one."""
        with self._ready:
            had, self._item, self._full = self._full, None, False
            return had

    def close(self):
        """Drop the waiting item and make every take() return CLOSED from now on."""
        with self._ready:
            self._open = False
            self._item, self._full = None, False
            self._ready.notify_all()


class LatestWorker:
    """A thread running ``handle(item)`` on the newest item offered, one at a time."""

    def __init__(self, name: str, handle: Callable[[object], None]):
        self._handle = handle
        self._slot = LatestSlot()
        self._thread: Optional[threading.Thread] = threading.Thread(
            target=self._run, name=name, daemon=True)
        self._thread.start()

    def offer(self, item) -> bool:
        """Hand ``item`` to the thread; return True if it replaced one not handled yet."""
        return self._slot.put(item)

    def clear(self) -> bool:
        """Drop the item waiting, if any (the one being handled is finished)."""
        return self._slot.clear()

    def stop(self, timeout: float) -> bool:
        """Drop the waiting item, let the one in hand finish, join; return whether it ended."""
        self._slot.close()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self):
        while True:
            item = self._slot.take()
            if item is CLOSED:
                return
            self._handle(item)
