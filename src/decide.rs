//! Combining matches into one verdict.
