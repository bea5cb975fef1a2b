//! Prints the JSON Schema of the interview definition format.
//!
//! ```sh
//! cargo run -p satchel-interview --example schema > interviews/interview.schema.json
//! ```

fn main() {
    let schema = satchel_interview::json_schema();
    match serde_json::to_string_pretty(&schema) {
        Ok(text) => println!("{text}"),
        Err(error) => {
            eprintln!("could not print the schema: {error}");
            std::process::exit(1);
        }
    }
}
