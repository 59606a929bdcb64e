"""Security incidents (安全事件): detection over the access audit, remedies, breach notices."""
