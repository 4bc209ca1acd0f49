"""Task logic: encoding inputs, predicting, and the shapes of results."""
