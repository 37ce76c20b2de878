"""State backends behind one contract: claims (dedup) and the notification job queue."""
