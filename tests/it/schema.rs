//! `schema.graphql` is generated from the code; this test fails when the checked-in copy is stale.

#[test]
fn schema_graphql_is_fresh() {
    let generated = samverka::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    if generated != checked_in {
        let diff = similar::TextDiff::from_lines(&checked_in, &generated);
        let shown: String =
            diff.unified_diff().context_radius(2).header("schema.graphql (checked in)", "generated").to_string();
        panic!("schema.graphql is stale; run `cargo run -- export-schema` and commit it.\n{shown}");
    }
}
