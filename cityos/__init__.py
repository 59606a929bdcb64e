"""CityOS (城市操作系统): the public data resource platform and city brain of a smart city."""

__version__ = "0.1.0"
