"""CPU scheduling: the simulator, the policy interface students implement, and trace tools."""

from .checks import Candidate, Divergence, Snapshot, first_divergence, replay, validate_trace
from .metrics import JobMetrics, Metrics, compute_metrics, count_switches
from .model import (
    Job,
    JobId,
    JobInfo,
    Reason,
    SchedulingError,
    Segment,
    SegmentKind,
    StopReason,
    Ticks,
    Trace,
    WorkloadError,
    validate_workload,
)
from .policy import Decision, Scheduler
from .simulator import simulate

__all__ = [
    "Candidate",
    "Decision",
    "Divergence",
    "Job",
    "JobId",
    "JobInfo",
    "JobMetrics",
    "Metrics",
    "Reason",
    "Scheduler",
    "SchedulingError",
    "Segment",
    "SegmentKind",
    "Snapshot",
    "StopReason",
    "Ticks",
    "Trace",
    "WorkloadError",
    "compute_metrics",
    "count_switches",
    "first_divergence",
    "replay",
    "simulate",
    "validate_trace",
    "validate_workload",
]
