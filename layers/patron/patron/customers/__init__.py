"""A person's lifecycle: merging, erasing, anonymising and exporting, across every context that holds them."""
