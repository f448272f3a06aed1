"""The demo simulation: a realistic campaign, simulated operators and a simulated
switch driving the engine through a day on a virtual clock, with the real scheduler."""

from __future__ import annotations

from dialstate.sim.clock import VirtualClock
from dialstate.sim.demo import DemoResult, DemoSettings, run_demo

__all__ = ["DemoResult", "DemoSettings", "VirtualClock", "run_demo"]
