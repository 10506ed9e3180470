"""Storage backends behind one small interface: local disk (default) and S3/R2."""
