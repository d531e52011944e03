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
Reliability of facesense_node's input subscription: ``best_effort``, ``reliable`` or ``auto``.

``auto`` subscribes the way the publishers offer: reliable when every publisher of the topic
offers reliable, best effort as soon as one offers best effort. That is rmw_dds_common's rule
for ``ReliabilityPolicy.BEST_AVAILABLE``, which Jazzy and Kilted have and Humble has not; where
it exists the subscription asks for it, elsewhere it asks for the policy this module computes
from ``Node.get_publishers_info_by_topic``. Either way the rule is applied once, when the
subscription is made (with no publisher yet, BEST_AVAILABLE gives reliable, which a best-effort
camera started later would never match), so the node asks ``outdated()`` again every
``PUBLISHER_CHECK_PERIOD`` and re-creates the subscription when the answer changes.

The rule takes the publishers' offered policies, so it is tested without any DDS
(test/test_input_qos.py), and the same code runs on every distro. ``FollowingSubscription``
applies it to one subscription of a node (image_raw, depth/image_raw): subscribe, unsubscribe,
and ``follow()``, which the node's periodic check calls.
"""

from typing import Callable, Iterable, List, Optional

from rclpy.qos import QoSProfile, ReliabilityPolicy

# BEST_AVAILABLE exists since Iron (Jazzy's rclpy 7, Kilted's 9); Humble's rclpy 3 lacks it.
HAS_BEST_AVAILABLE = hasattr(ReliabilityPolicy, 'BEST_AVAILABLE')
# The parameter's choices; None: decided from the publishers.
CHOICES = {'auto': None,
           'best_effort': ReliabilityPolicy.BEST_EFFORT,
           'reliable': ReliabilityPolicy.RELIABLE}
NAMES = {ReliabilityPolicy.BEST_EFFORT: 'best_effort', ReliabilityPolicy.RELIABLE: 'reliable'}
# Seconds between checks of the publishers under auto: a camera started or replaced is matched
# with the right reliability within about this long; each check is one graph-cache query.
PUBLISHER_CHECK_PERIOD = 1.0


def offered_reliability(offered: Iterable[ReliabilityPolicy]) -> ReliabilityPolicy:
    """Return reliable if every offered policy is reliable (also for none), else best effort."""
    if all(policy == ReliabilityPolicy.RELIABLE for policy in offered):
        return ReliabilityPolicy.RELIABLE
    return ReliabilityPolicy.BEST_EFFORT


class InputReliability:
    """The reliability one parameter value asks for, and the one in effect."""

    def __init__(self, choice: str, best_available: bool = HAS_BEST_AVAILABLE):
        if choice not in CHOICES:
            raise ValueError(f'reliability must be one of {list(CHOICES)}, got {choice!r}')
        self.choice = choice
        self.best_available = best_available
        self.in_effect: Optional[ReliabilityPolicy] = None

    @property
    def auto(self) -> bool:
        """Whether the reliability follows the publishers."""
        return CHOICES[self.choice] is None

    def request(self, offered: Iterable[ReliabilityPolicy]) -> ReliabilityPolicy:
        """Return the policy to create the subscription with now; it is then in effect."""
        fixed = CHOICES[self.choice]
        if fixed is not None:
            self.in_effect = fixed
            return fixed
        self.in_effect = offered_reliability(offered)
        return ReliabilityPolicy.BEST_AVAILABLE if self.best_available else self.in_effect

    def outdated(self, offered: Iterable[ReliabilityPolicy]) -> bool:
        """Whether a subscription made now would get another reliability than the one in effect."""
        return self.auto and offered_reliability(offered) != self.in_effect

    def describe(self) -> str:
        """Return e.g. ``reliable (auto)``: the policy in effect, and how it was chosen."""
        name = NAMES.get(self.in_effect, 'none yet')
        return f'{name} (auto)' if self.auto else name


class FollowingSubscription:
    """
    One input subscription made with the reliability its ``reliability`` parameter asks for.

    Nothing is created until ``subscribe()``; ``event_callbacks`` (a
    SubscriptionEventCallbacks) are passed on as they are.
    """

    def __init__(self, node, msg_type, topic: str, callback: Callable, depth: int, choice: str,
                 event_callbacks=None):
        """Hold what subscribe() needs; ValueError for an unknown ``choice``."""
        self.reliability = InputReliability(choice)
        self.subscription = None
        self._node = node
        self._args = (msg_type, topic, callback)
        self._depth = depth
        self._extra = {} if event_callbacks is None else {'event_callbacks': event_callbacks}

    def offered(self) -> List[ReliabilityPolicy]:
        """Return the reliability each publisher of the topic offers now."""
        topic = self._node.resolve_topic_name(self._args[1])
        return [info.qos_profile.reliability
                for info in self._node.get_publishers_info_by_topic(topic)]

    def subscribe(self) -> None:
        """Create the subscription, with the reliability the publishers call for now."""
        qos = QoSProfile(depth=self._depth, reliability=self.reliability.request(self.offered()))
        self.subscription = self._node.create_subscription(*self._args, qos, **self._extra)

    def unsubscribe(self) -> None:
        """Destroy the subscription, if there is one."""
        if self.subscription is not None:
            self._node.destroy_subscription(self.subscription)
            self.subscription = None

    def follow(self) -> Optional[str]:
        """Re-subscribe if the publishers' offer changed: return 'before -> after', else None."""
        if self.subscription is None or not self.reliability.outdated(self.offered()):
            return None
        before = self.reliability.describe()
        self.unsubscribe()
        self.subscribe()
        return f'{before} -> {self.reliability.describe()}'
