"""The small core every domain uses: db, bus, auth, audit, errors, i18n, web shell."""
