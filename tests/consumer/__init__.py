"""A sample integration, as a team integrating these vendors writes it: it knows nothing of the emulator."""
