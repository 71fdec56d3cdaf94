"""PV-surplus benchmark: data, simulation, baseline controllers and the MILP optimum."""
