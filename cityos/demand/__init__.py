"""Public demand for open data (数据需求, Haikou regulation Art. 15 ¶2)."""
