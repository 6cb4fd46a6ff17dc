//! Policies: TOML packs, loaded, validated and matched.
