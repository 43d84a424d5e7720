"""Generation: matrix of cells -> jinja2 templates -> Python source -> in-memory modules or files."""
