"""What every stage may use: the version, safe text for terminals and CSV, memory, Dask set-up."""
