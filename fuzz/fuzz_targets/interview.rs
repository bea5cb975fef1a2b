//! Parsing and checking interview definitions, then running what checks.
//!
//! Every input is taken as a definition file and linted: it must check or
//! give problems, never panic, and every problem must point at a line of the
//! input. An input that checks is then run: started in each of its
//! languages, answered on every screen with the same text, walked forward
//! and back, reviewed and finalized, none of which may panic; a submission
//! may only hold answers the review shows.

#![no_main]

use libfuzzer_sys::fuzz_target;
use satchel_interview::{Run, Target};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let interview = match satchel_interview::load(source) {
        Ok(interview) => interview,
        Err(problems) => {
            // YAML ends a line at "\n", "\r\n" or a lone "\r".
            let breaks = source.replace("\r\n", "\n").matches(['\n', '\r']).count();
            let lines = breaks as u64 + 1;
            for problem in &problems.0 {
                assert!(problem.position.line >= 1 && problem.position.line <= lines, "{problem}");
            }
            return;
        }
    };
    for language in interview.languages() {
        let Ok(mut run) = Run::start(&interview, language) else {
            continue;
        };
        for _ in 0..interview.screen_count() + 1 {
            if let Some(screen) = run.screen() {
                for field in &screen.fields {
                    if let Ok(target) = field.target.parse::<Target>() {
                        let _ = run.set(&target, json!("1"));
                        let _ = run.set(&target, json!(true));
                    }
                }
            }
            let _ = run.forward();
        }
        run.back();
        let _ = run.forward();
        let review = run.review();
        if let Ok(submission) = run.finalize() {
            for field in submission.answers.keys() {
                let shown = review
                    .iter()
                    .flat_map(|s| &s.items)
                    .any(|item| item.target == *field || item.target.starts_with(&format!("{field}.")));
                assert!(shown, "{field} sent but not reviewed");
            }
        }
    }
});
