"""End-to-end tests: several hems entry kinds working together."""
