"""数据归集 (the datastore): per-resource data tables, loading, querying, exports, timeliness."""
