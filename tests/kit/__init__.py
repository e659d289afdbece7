"""The tests' one test-data kit: a Read builder (`reads`) and a synthetic DICOM writer (`dicom`)."""
