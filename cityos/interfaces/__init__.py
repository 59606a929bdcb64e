"""Interface services (接口服务, Art. 13 ¶2): registered query and proxy services over resources."""
