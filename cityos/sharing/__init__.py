"""Sharing (政务数据共享): share requests, grants and the working-day calendar (Art. 13)."""
