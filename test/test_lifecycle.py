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
facesense_node as a managed node, driven from this process through its lifecycle services.

One node process (``autostart:=false``, namespace /lc) serves the module's tests in file order,
as a lifecycle manager would drive it: a configuration that fails on a missing model and is
retried with a good ``model_dir``, 20 activate/deactivate cycles under 30 fps input, cleanup
(memory given back), then the shutdown sequence nav2_lifecycle_manager sends. Other processes:
SIGINT and SIGTERM in each state, and at many moments of start-up. Figures are printed
(``pytest -s``) for docs/interfaces.md.
"""

import os
import re
import signal
import time

from facesense_ros.sample_frames import compose_frame
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
import pytest
import rosutil
from rosutil import Diagnostics, error_lines, Sender, usage
from std_srvs.srv import SetBool

NS = '/lc'
NODE = f'{NS}/facesense'
CYCLES = 20
# The input rate the cycles run under, like a webcam's.
INPUT_FPS = 30.0
# Small frames (230 KB) keep 30 fps cheap for the test process on shared cores.
FRAME_SIZE = (320, 240)
# While inactive, the input keeps coming for this many frames before the next activation.
INACTIVE_FRAMES = 10
# Bounds on growth over the cycles: a leak of one thread, a few descriptors or a frame buffer
# per cycle would exceed them (20 cycles), noise of the allocator does not.
MAX_RSS_GROWTH_KB = 40_000
MAX_FD_GROWTH = 4
# Start-up moments (seconds after start) for the signal loop: during the imports (~0.8 s),
# node creation, each model's compilation and after ready. A moment before the handlers exist
# (the interpreter's own start, 50-130 ms here) waits until they do.
SIGNAL_DELAYS = (0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3, 1.6, 2.2, 3.0)
# Frames published after the subscription matched among which one must be answered: the
# publisher may see the match before the node's reader has matched it, and a reliable sample
# replaced in a depth-1 history before the reader knew the writer is never repaired.
FIRST_FRAMES = 3
ROSOUT_FAILURE = 'Failed to publish log message to rosout'

tester = rosutil.module_tester('lifecycle_tester')


# The state each transition leads to when it succeeds.
GOAL_STATES = {Transition.TRANSITION_CONFIGURE: 'inactive',
               Transition.TRANSITION_ACTIVATE: 'active',
               Transition.TRANSITION_DEACTIVATE: 'inactive',
               Transition.TRANSITION_CLEANUP: 'unconfigured',
               Transition.TRANSITION_UNCONFIGURED_SHUTDOWN: 'finalized'}


class Lifecycle:
    """A lifecycle manager's view of one node: its state, and transitions by id."""

    def __init__(self, tester, node: str):
        self.tester = tester
        self.node = node

    def state(self) -> str:
        response = self.tester.call(GetState, f'{self.node}/get_state', GetState.Request(),
                                    resend_after=rosutil.SERVICE_RESEND_AFTER)
        assert response is not None, f'{self.node}/get_state did not answer'
        return response.current_state.label

    def change(self, transition_id: int) -> bool:
        request = ChangeState.Request(transition=Transition(id=transition_id))
        # Configuring compiles the models: allow for it on a busy machine.
        response = self.tester.call(ChangeState, f'{self.node}/change_state', request,
                                    timeout=rosutil.STARTUP_TIMEOUT)
        if response is None:
            # A transition is not idempotent, so it is never sent twice. A lost response
            # (RosTester.call) is told from a failed transition by the state the node is in.
            return self.state() == GOAL_STATES[transition_id]
        return response.success


def _no_models_env(tmp_path):
    # No model directory, an empty cache, a download URL that refuses at once (no internet).
    env = {k: v for k, v in os.environ.items() if k != 'FACESENSE_MODEL_DIR'}
    env.update(XDG_CACHE_HOME=str(tmp_path / 'cache'), FACESENSE_MODEL_URL='http://127.0.0.1:9/')
    return env


@pytest.fixture(scope='module')
def managed(tester, tmp_path_factory):
    """Run the /lc node: unconfigured, with an empty model_dir and no model anywhere."""
    tmp = tmp_path_factory.mktemp('lifecycle')
    (tmp / 'empty').mkdir()
    process = rosutil.start('facesense_node', namespace=NS, env=_no_models_env(tmp), params={
        'autostart': False, 'model_dir': str(tmp / 'empty'), 'diagnostics_period': 0.5})
    try:
        lifecycle = Lifecycle(tester, NODE)
        yield process, lifecycle
    finally:
        assert process.stop(signal.SIGTERM) == 0, process.output()


@pytest.fixture(scope='module')
def sender(tester, managed):
    return Sender(tester, NS)


def _cpu_seconds(pid: int) -> float:
    with open(f'/proc/{pid}/stat') as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    # utime and stime (fields 14 and 15 of proc(5)), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def test_starts_unconfigured_and_waits(tester, managed):
    process, lifecycle = managed
    assert lifecycle.state() == 'unconfigured'
    values = Diagnostics(tester, NS).wait()
    assert values['lifecycle state'] == 'unconfigured' and values['model files'] == ''
    # No output publisher exists before configuration.
    assert tester.node.count_publishers(f'{NS}/faces/detections') == 0
    assert process.running()
    # Parameters are checked while unconfigured too: a bad value is refused, a good one kept.
    [result] = tester.set_parameters(NODE, {'detector': 'nope'})
    assert not result.successful and 'detector' in result.reason
    [result] = tester.set_parameters(NODE, {'confidence_threshold': 0.5})
    assert result.successful, result.reason


def test_configure_fails_on_a_missing_model_then_succeeds(tester, managed, model_dir):
    process, lifecycle = managed
    diagnostics = Diagnostics(tester, NS)
    assert lifecycle.change(Transition.TRANSITION_CONFIGURE) is False
    assert lifecycle.state() == 'unconfigured' and process.running()
    output = process.output()
    assert 'Traceback' not in output
    [line] = error_lines(output)
    assert 'face-detection-0' in line
    # The reason is on /diagnostics too, for a manager that reads it.
    values = diagnostics.wait(lambda v: v['lifecycle state'] == 'unconfigured')
    status = [s for m in diagnostics.inbox for s in m.status if s.name.startswith(NODE + ':')]
    assert line.split(': ', 1)[1] in status[-1].message
    assert values['model files'] == ''
    # The manager fixes the parameter and configures again.
    [result] = tester.set_parameters(NODE, {'model_dir': str(model_dir)})
    assert result.successful, result.reason
    pid = process.pid
    managed_rss = usage(pid)['rss_kb']
    assert lifecycle.change(Transition.TRANSITION_CONFIGURE) is True
    assert lifecycle.state() == 'inactive'
    values = diagnostics.wait(lambda v: v['lifecycle state'] == 'inactive')
    assert 'face-detection-0' in values['model files']
    # Configured (models loaded), nothing subscribed yet: inactive.
    assert tester.node.count_subscribers(f'{NS}/image_raw') == 0
    test_configure_fails_on_a_missing_model_then_succeeds.unconfigured_rss = managed_rss


def test_activate_deactivate_cycles_under_30_fps(tester, managed, sender):
    process, lifecycle = managed
    frame, _ = compose_frame(1, size=FRAME_SIZE)
    sent = []  # (message, phase) in publishing order
    # Frames published during a transition's service call are on either side of it: only those
    # published between a deactivation's answer and the next activation request count.
    phase = ['activating']

    def publish():
        msg = sender.message(frame)
        sender.publisher.publish(msg)
        sent.append((msg, phase[0]))
    timer = tester.node.create_timer(1.0 / INPUT_FPS, publish)
    samples = {}
    inactive_cpu = []
    try:
        for cycle in range(CYCLES):
            phase[0] = 'activating'
            assert lifecycle.change(Transition.TRANSITION_ACTIVATE) is True
            phase[0] = 'active'
            # The first frames that reach the node once it is active are answered.
            assert tester.wait_for_subscribers(sender.publisher)
            first = len(sent)
            assert tester.spin_until(lambda: len(sent) >= first + FIRST_FRAMES,
                                     rosutil.DISCOVERY_TIMEOUT)
            firsts = [m for m, _ in sent[first:first + FIRST_FRAMES]]
            assert tester.spin_until(
                lambda: any(sender.answer_to(m.header) is not None for m in firsts),
                rosutil.ANSWER_TIMEOUT), f'cycle {cycle}: none of the first frames answered'
            phase[0] = 'deactivating'
            assert lifecycle.change(Transition.TRANSITION_DEACTIVATE) is True
            phase[0] = 'inactive'
            cpu_before, wall_before = _cpu_seconds(process.pid), time.monotonic()
            begun = len(sent)
            tester.spin_until(lambda: len(sent) >= begun + INACTIVE_FRAMES,
                              rosutil.DISCOVERY_TIMEOUT)
            inactive_cpu.append((_cpu_seconds(process.pid) - cpu_before)
                                / (time.monotonic() - wall_before))
            if cycle in (1, CYCLES - 1):
                samples[cycle] = usage(process.pid)
    finally:
        tester.node.destroy_timer(timer)
    # Answers to frames sent before a deactivation may still be on their way: wait a little,
    # then no frame sent while inactive may have an answer.
    tester.spin_for(1.0)
    inactive = [m for m, p in sent if p == 'inactive']
    answered = [m for m in inactive if sender.answer_to(m.header) is not None]
    assert len(inactive) >= CYCLES * INACTIVE_FRAMES
    assert answered == [], f'{len(answered)} frames answered while inactive'
    first, last = samples[1], samples[CYCLES - 1]
    print(f'\ncycles: {CYCLES}, {len(sent)} frames sent at {INPUT_FPS:g} fps; after cycle 2 '
          f'{first}, after cycle {CYCLES} {last}; inactive CPU '
          f'{100 * sum(inactive_cpu) / len(inactive_cpu):.1f} % of a core (mean), '
          f'{100 * max(inactive_cpu):.1f} % (max)')
    assert last['threads'] == first['threads']
    assert last['fds'] - first['fds'] <= MAX_FD_GROWTH
    assert last['rss_kb'] - first['rss_kb'] <= MAX_RSS_GROWTH_KB


def test_cleanup_gives_the_models_memory_back(tester, managed):
    process, lifecycle = managed
    unconfigured = test_configure_fails_on_a_missing_model_then_succeeds.unconfigured_rss
    assert lifecycle.state() == 'inactive'
    cycled = usage(process.pid)['rss_kb']
    assert lifecycle.change(Transition.TRANSITION_CLEANUP) is True
    assert lifecycle.state() == 'unconfigured'
    cleaned = usage(process.pid)['rss_kb']
    values = Diagnostics(tester, NS).wait(lambda v: v['lifecycle state'] == 'unconfigured')
    assert values['model files'] == ''
    # The first configuration also loads OpenVINO's CPU plugin, which stays for the process's
    # life; what one configuration takes from then on is measured by a second one.
    assert lifecycle.change(Transition.TRANSITION_CONFIGURE) is True
    configured = usage(process.pid)['rss_kb']
    assert lifecycle.change(Transition.TRANSITION_CLEANUP) is True
    cleaned_again = usage(process.pid)['rss_kb']
    print(f'\nRSS MB: unconfigured {unconfigured / 1024:.0f}, configured and cycled '
          f'{cycled / 1024:.0f}, cleanup {cleaned / 1024:.0f}; configured again '
          f'{configured / 1024:.0f}, cleanup {cleaned_again / 1024:.0f}: '
          f'{(configured - cleaned_again) / 1024:.0f} of the '
          f'{(configured - cleaned) / 1024:.0f} MB taken given back')
    assert cycled > cleaned
    # What the models took comes back (allocator noise aside), and nothing piles up.
    assert configured - cleaned_again >= 0.8 * (configured - cleaned)
    assert cleaned_again - cleaned <= MAX_RSS_GROWTH_KB


def test_manager_sequence_up_and_down(tester, managed, sender):
    """Configure, activate, (work), deactivate, cleanup, shutdown: nav2_lifecycle_manager's."""
    process, lifecycle = managed
    # ~/enable false before activation is remembered: activated, the node stays paused.
    response = tester.call(SetBool, f'{NODE}/enable', SetBool.Request(data=False),
                           resend_after=rosutil.SERVICE_RESEND_AFTER)
    assert response.success and 'takes effect when active' in response.message
    for transition, state in ((Transition.TRANSITION_CONFIGURE, 'inactive'),
                              (Transition.TRANSITION_ACTIVATE, 'active')):
        assert lifecycle.change(transition) is True
        assert lifecycle.state() == state
    values = Diagnostics(tester, NS).wait(lambda v: v['lifecycle state'] == 'active')
    assert values['paused'] == 'true'
    assert tester.node.count_subscribers(f'{NS}/image_raw') == 0
    # Not resent: a second request would answer 'already enabled'. The client is the one of
    # the call above, whose response came back, so the response path is matched.
    response = tester.call(SetBool, f'{NODE}/enable', SetBool.Request(data=True))
    assert response.success and response.message == 'enabled'
    # A transition the state has not (configure while active) is refused; the node goes on.
    assert lifecycle.change(Transition.TRANSITION_CONFIGURE) is False
    assert lifecycle.state() == 'active'
    frame, boxes = compose_frame(2, size=FRAME_SIZE)
    _, answer = sender.send(frame)
    assert len(answer.detections) == len(boxes)
    for transition, state in ((Transition.TRANSITION_DEACTIVATE, 'inactive'),
                              (Transition.TRANSITION_CLEANUP, 'unconfigured'),
                              (Transition.TRANSITION_UNCONFIGURED_SHUTDOWN, 'finalized')):
        assert lifecycle.change(transition) is True
        assert lifecycle.state() == state
    assert process.running()
    output = process.output()
    assert 'Traceback' not in output
    # Each configuration after a cleanup numbers tracks from 1 again under a new REP-155 token.
    prefixes = re.findall(r'face ids (?:now )?(\S+)_<track id>', output)
    assert len(prefixes) >= 3 and len(set(prefixes)) == len(prefixes), prefixes
    # The missing model's line, and the refused transition's (rclpy's own on Kilted too).
    assert all('face-detection-0' in line or 'transition' in line
               for line in error_lines(output)), error_lines(output)


def _drive(tester, process, namespace, state):
    lifecycle = Lifecycle(tester, f'{namespace}/facesense')
    steps = {'unconfigured': [], 'inactive': [Transition.TRANSITION_CONFIGURE],
             'active': [Transition.TRANSITION_CONFIGURE, Transition.TRANSITION_ACTIVATE]}
    assert lifecycle.state() == 'unconfigured', process.output()
    for transition in steps[state]:
        assert lifecycle.change(transition) is True, process.output()
    assert lifecycle.state() == state


@pytest.mark.parametrize('state', ['unconfigured', 'inactive', 'active'])
def test_sigint_and_sigterm_in_each_state_exit_0(tester, model_dir, state):
    for sig in (signal.SIGINT, signal.SIGTERM):
        namespace = f'/lc_{state}_{int(sig)}'
        process = rosutil.start('facesense_node', namespace=namespace,
                                params={'autostart': False, 'model_dir': str(model_dir)})
        try:
            _drive(tester, process, namespace, state)
        finally:
            code = process.stop(sig)
        output = process.output()
        assert code == 0, output
        assert 'Traceback' not in output and ROSOUT_FAILURE not in output, output


def _handles_sigterm(pid: int) -> bool:
    with open(f'/proc/{pid}/status') as status:
        caught = next(line for line in status if line.startswith('SigCgt:')).split()[1]
    return bool(int(caught, 16) & (1 << (signal.SIGTERM - 1)))


def test_signal_at_any_moment_of_start_up_exits_0_quietly(model_dir):
    for i, delay in enumerate(SIGNAL_DELAYS):
        sig = (signal.SIGTERM, signal.SIGINT)[i % 2]
        started = time.monotonic()
        process = rosutil.start('facesense_node', params={'model_dir': str(model_dir)})
        while not _handles_sigterm(process.pid) and process.running():
            time.sleep(0.005)
        time.sleep(max(0.0, started + delay - time.monotonic()))
        code = process.stop(sig)
        output = process.output()
        assert code == 0, f'{sig!r} after {delay} s: exit {code}\n{output}'
        assert 'Traceback' not in output and ROSOUT_FAILURE not in output, (
            f'{sig!r} after {delay} s:\n{output}')
