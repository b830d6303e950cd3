"""Media handling for uploaded photos: validation/re-encoding and storage."""
