"""A sample integration, as a team integrating these vendors writes it: it knows nothing of the emulator.

``inventory`` is the team's client; ``naive`` and ``careful`` are two clients of each vendor's list, the
one trusting, the other defensive, whose tests (``test_clients``) the drift rehearsal tells apart.
"""
