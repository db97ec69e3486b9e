"""What each vendor promises, pinned per vendor, and the sweeps that cover every declared vendor."""
