"""Test emulator of Adobe IMS and ACCS (see README.md in this folder).

``tests.emulator.control`` holds the client of its control interface and ``running_emulator``,
the context manager that starts it; ``tests.emulator.server`` is the server itself.
"""
