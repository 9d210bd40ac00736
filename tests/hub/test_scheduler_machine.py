"""The pure scheduler under random event sequences (fake clock, in-memory store)."""

from hypothesis import HealthCheck, settings
from machine import SchedulerMachine

SchedulerMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestSchedulerMachine = SchedulerMachine.TestCase
