"""On-site notifications (通知): messages to signed-in users, translated when shown."""
