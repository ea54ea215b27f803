"""The instructor's workflow around grading: platform packages, batch regrades, student kits,
mutation analysis of the hidden tests. Builds on the engine and the reports; the CLI calls it."""
