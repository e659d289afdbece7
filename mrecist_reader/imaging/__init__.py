"""DICOM discovery, loading, geometry, phase and semi-automatic measurement (no Qt)."""
