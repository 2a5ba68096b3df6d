"""Emulator controls (not part of v3): the shared clock and other test-harness levers."""
