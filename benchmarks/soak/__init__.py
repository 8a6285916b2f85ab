"""Soak and chaos test (issue #11): the headless app against a large simulated rig.

``python -m benchmarks.soak --duration 600 --seed 7`` runs the simulators in this process,
the app (``micboard_desktop headless --lan``) as a child process, a seeded chaos driver that
injects every simulator fault, LAN clients that poll and stream, a kill -9 and restart in
the middle, and checks recovery, values, alerts, resources and the database throughout.
"""
