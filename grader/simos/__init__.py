"""The simulated operating system: pure, deterministic, standard library only.

Nothing here knows about grading; the engine drives these simulators.
"""
