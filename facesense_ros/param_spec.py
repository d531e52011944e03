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
ParamSpec: one parameter's name, default, description, range or choices, and how it applies.

ROS-free. config.PARAMETERS (the core's), attributes' generated ones and the node's own
(ros_parameters.NODE_PARAMETERS) are all ParamSpecs; ros_parameters turns them into rclpy
declarations with descriptors.
"""

from dataclasses import dataclass
from typing import Any, Optional, Tuple

# Where a parameter's value goes: a PipelineConfig field (what the models run), a
# TrackingConfig field (what happens after them) or the node itself (not in the core).
GROUPS = ('pipeline', 'tracking', 'node')


@dataclass(frozen=True)
class ParamSpec:
    """One configurable value: its default, meaning and allowed range or choices."""

    name: str
    default: Any
    description: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: Optional[Tuple[str, ...]] = None
    # Changing it at run time rebuilds the compiled models.
    needs_reload: bool = False
    group: str = 'pipeline'
    # Fixed at start-up: the node refuses a later change (rclpy's descriptor.read_only).
    read_only: bool = False

    def __post_init__(self):
        """Reject a spec that could never be used (an unknown group)."""
        if self.group not in GROUPS:
            raise ValueError(f'{self.name}: group must be one of {GROUPS}, got {self.group!r}')

    def check(self, value) -> Optional[str]:
        """Return why ``value`` is not acceptable, or None when it is."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is tuple:
            if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
                return f'{self.name} must be a list of strings, got {value!r}'
            if not value:
                return f'{self.name} must not be empty'
            bad = [v for v in value if self.choices and v not in self.choices]
            if bad:
                return f'{self.name}: unknown {bad}, expected some of {list(self.choices)}'
            return None
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f'{self.name} must be {expected.__name__}, got {value!r}'
        if self.choices is not None and value not in self.choices:
            return f'{self.name} must be one of {list(self.choices)}, got {value!r}'
        if self.minimum is not None and value < self.minimum:
            return f'{self.name} must be >= {self.minimum}, got {value!r}'
        if self.maximum is not None and value > self.maximum:
            return f'{self.name} must be <= {self.maximum}, got {value!r}'
        return None
