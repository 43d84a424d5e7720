"""What generated tests call: fixtures, model references, parity and shape checks."""
