//! The JSON Schema in `interviews/` is the one the definition types give.

use std::path::Path;

#[test]
fn the_committed_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interviews/interview.schema.json");
    let committed = std::fs::read_to_string(&path).expect("interviews/interview.schema.json");
    let committed: serde_json::Value =
        serde_json::from_str(&committed).expect("the committed schema is JSON");
    assert!(
        committed == satchel_interview::json_schema(),
        "interviews/interview.schema.json is out of date; regenerate it with\n\
         cargo run -p satchel-interview --example schema > interviews/interview.schema.json"
    );
}

#[test]
fn the_schema_names_every_field_type() {
    let schema = serde_json::to_string(&satchel_interview::json_schema()).expect("JSON");
    for kind in [
        "long_text",
        "single_choice",
        "multiple_choice",
        "masked",
        "repeat",
        "note",
        "yes_no",
    ] {
        assert!(
            schema.contains(&format!("\"{kind}\"")),
            "{kind} missing from the schema"
        );
    }
}
