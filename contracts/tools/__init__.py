"""The command line and the tools a nightly job uses: calibrate and record.

Layer 4 of contracts: may import anything of contracts.
"""
