"""Exchange (数据交换): authorization codes and the record exchange API over grants."""
