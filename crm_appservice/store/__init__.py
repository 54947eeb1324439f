"""All SQL of the product lives in this package: one module per aggregate, plus the pool,
the migrations and the embedded server."""
