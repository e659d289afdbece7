"""The CSV contract of shared/spec/data-transfer.md."""
