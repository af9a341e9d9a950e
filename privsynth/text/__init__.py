"""Text synthesis under differential privacy: PHI placeholders in, a DP language model
over placeholder text, realistic surrogates out."""
