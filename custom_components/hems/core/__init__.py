"""Pieces shared by the features: base entity, translations of the root steps."""
