"""The pure rules core: plain data and exact mRECIST rules (standard library only)."""
