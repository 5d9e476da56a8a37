//! The terminal tool as a person meets it: each case in `tests/cmd/` is a command (`NAME.toml`),
//! the folder it runs in (`NAME.in/`, copied to a sandbox so nothing there changes) and what it
//! must print (`NAME.stdout`, `NAME.stderr`) and exit with. `TRYCMD=overwrite cargo test --test
//! all cmd::` rewrites the expected output after a deliberate change; review it as a diff.

#[test]
fn command_line_cases() {
    trycmd::TestCases::new()
        .register_bin("milestone-sync", std::path::Path::new(env!("CARGO_BIN_EXE_milestone-sync")))
        .case("tests/cmd/*.toml");
}
