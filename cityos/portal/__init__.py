"""The portal shell: home page and shared navigation."""
