"""The ``shapes`` world: coloured circles, squares and triangles with exact answers."""
