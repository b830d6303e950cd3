"""Reports held by the content check wait here for staff to approve or hide them."""
