"""What referents and coordinators see: coverage, staff matrix, trend, network, exports."""
