"""For vendor authors: the declaration linter, the generated reference, the scaffold and the fixture
generator.

Layer 10: may import anything below the command line.
"""
