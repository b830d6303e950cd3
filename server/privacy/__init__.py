"""Personal information (PIPL): consent, access, copy, deletion, staff access log, retention; moderation."""
