"""DCAT-AP 3.0.1 description of the catalogue (Turtle, JSON-LD, RDF/XML) built with rdflib."""
