"""Statistical models of coverage against applications and amounts."""
