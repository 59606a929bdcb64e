"""Users, memberships and roles, password login for pages, API tokens for APIs."""
