"""Deterministic simulator of Haikou's sensor network (stations, models, a typhoon scenario).

A pure library: ``stream.readings`` yields readings in time order; the publishers (MQTT, HTTP)
and the ``cityos simulate`` command build on it.
"""
