"""Use cases: what each command does with a config and a backend, without printing anything.

Each reads through the backend port, plans with the core and writes back under the read-plan-write cycle
of :mod:`.cycle` (the backend's lock, a re-read and redo when staff saved meanwhile). The CLI and the
runner call these; they raise the library's exceptions and return data.
"""
