"""CKAN Action API v3 (read-only subset) over the catalogue and the datastore.

Clients written for CKAN (``ckanapi``, harvesters, portals) work unchanged: the same URLs
(``/api/3/action/<name>`` and ``/api/action/<name>``), envelope, error types and status codes.
A catalogue resource is a CKAN package with one CKAN resource (its datastore table).
"""
