"""Where the contract is checked: the target choice and a client safe to point at a real vendor.

Layer 1 of contracts: imports mockserver only.
"""
