//! Turns every ```rust block of the workspace README into a test
//! (`tests/readme.rs` includes them), so the README's snippets are
//! compiled and run against a live server exactly as they are written.
//!
//! Each block becomes the body of an async test that returns
//! `anyhow::Result<()>`; string literals naming `127.0.0.1:2181` (the
//! README's server) are given the test server's address instead. A
//! ```rust,no_run block (one that needs what a test machine may lack, such
//! as Docker) is compiled as the body of a function that is never called.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    println!("cargo:rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).expect("README.md is readable");
    let mut out = String::new();
    for (line, code, run) in rust_blocks(&text) {
        if !run {
            let _ = write!(
                out,
                "\n/// The README's snippet at line {line}: compiled, not run.\n\
                 #[allow(dead_code)]\n\
                 async fn readme_line_{line}_compiles() -> anyhow::Result<()> {{\n{code}\n\
                 \x20   Ok(())\n\
                 }}\n"
            );
            continue;
        }
        let _ = write!(
            out,
            "\n/// The README's snippet at line {line}.\n\
             #[tokio::test(flavor = \"multi_thread\", worker_threads = 2)]\n\
             async fn readme_line_{line}() {{\n\
             \x20   run_snippet({line}, |__zk: String| async move {{\n{}\n\
             \x20       anyhow::Ok(())\n\
             \x20   }})\n\
             \x20   .await;\n\
             }}\n",
            with_test_server(&code)
        );
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("readme_snippets.rs");
    std::fs::write(dest, out).expect("write the snippets");
}

/// (first line number, code, whether to run it) of each ```rust and
/// ```rust,no_run block.
fn rust_blocks(text: &str) -> Vec<(usize, String, bool)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String, bool)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == "```rust" => current = Some((i + 2, String::new(), true)),
            None if line.trim_start() == "```rust,no_run" => {
                current = Some((i + 2, String::new(), false));
            }
            Some(_) if line.trim_start() == "```" => blocks.extend(current.take()),
            Some((_, code, _)) => {
                code.push_str(line);
                code.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// Replaces each string literal that mentions `127.0.0.1:2181` with the
/// same text pointed at the test server (`__zk`, in scope in the test).
fn with_test_server(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("\"127.0.0.1:2181") {
        out.push_str(&rest[..at]);
        let literal = &rest[at..];
        let end = literal[1..].find('"').map_or(literal.len(), |i| i + 2);
        let _ = write!(
            out,
            "&{}.replace(\"127.0.0.1:2181\", &__zk)",
            &literal[..end]
        );
        rest = &literal[end..];
    }
    out.push_str(rest);
    out
}
