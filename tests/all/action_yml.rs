//! action.yml, the binary's defaults and the documentation must agree: the runner sets every
//! declared input with its default, a terminal run applies `config::INPUTS`' defaults and flags
//! instead, and users read docs/configuration.md (every input with its flag and default, every
//! output) and the README (the getting-started checklist and the two commands CI relies on).

use std::collections::BTreeMap;

use milestone_sync::config::INPUTS;

fn action() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap()).unwrap()
}

fn doc(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn names(section: &str) -> BTreeMap<String, serde_yaml::Value> {
    action()[section].as_mapping().unwrap().iter().map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone())).collect()
}

#[test]
fn action_inputs_and_binary_defaults_agree() {
    let declared = names("inputs");
    let binary: BTreeMap<&str, &str> = INPUTS.iter().map(|i| (i.name, i.default)).collect();
    assert_eq!(declared.keys().map(String::as_str).collect::<Vec<_>>(), binary.keys().copied().collect::<Vec<_>>());
    for (name, spec) in &declared {
        let default = spec["default"].as_str().unwrap_or_default();
        assert!(spec["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} has a description");
        if name == "github-token" {
            // `${{ github.token }}` is the runner's; the binary falls back to GITHUB_TOKEN.
            assert_eq!(default, "${{ github.token }}");
            continue;
        }
        assert_eq!(default, binary[name.as_str()], "default of {name}");
    }
}

#[test]
fn action_runs_the_container_directly() {
    let a = action();
    assert_eq!(a["runs"]["using"].as_str(), Some("docker"));
}

#[test]
fn configuration_documents_every_input_with_its_flag_and_every_output() {
    let doc = doc("docs/configuration.md");
    let row_of = |name: &str, what: &str| {
        doc.lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("docs/configuration.md has no table row for {what} `{name}`"))
    };
    for (name, spec) in names("inputs") {
        let row = row_of(&name, "input");
        let flag = INPUTS
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("config::INPUTS has no input `{name}`"))
            .flag;
        let default = spec["default"].as_str().unwrap_or_default();
        let shown = if default.is_empty() { "(empty)".to_string() } else { format!("`{default}`") };
        let start = format!("| `{name}` | `--{flag}` | {shown} |");
        assert!(row.starts_with(&start), "the row for `{name}` starts with {start}: {row}");
    }
    for (name, _) in names("outputs") {
        row_of(&name, "output");
    }
}

#[test]
fn readme_has_the_two_commands_and_getting_started() {
    let readme = doc("README.md");
    for command in ["`scripts/demo.sh`", "`scripts/test.sh`"] {
        assert!(readme.contains(command), "README names {command}");
    }
    // An error message of the binary points at this heading.
    let start = readme.find("\n## Getting started\n").expect("README has a `## Getting started` heading");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    assert!(section.contains("enable_sync = true"), "Getting started shows `enable_sync = true`");
}

#[test]
fn docs_name_the_current_major_version_in_uses() {
    // Every `OWNER/milestone-sync@REF` in README.md and docs/ names `main`, the major version
    // of Cargo.toml (`v0`) or the full version (`v0.1.0`). Placeholders (`@vX`, `@vN`, `@…`)
    // are left alone; a concrete version that is neither fails, e.g. `@v1` after 0.y.
    let version = env!("CARGO_PKG_VERSION");
    let major = format!("v{}", version.split('.').next().unwrap());
    let full = format!("v{version}");
    let mut files = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/docs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut seen = 0;
    for file in &files {
        let text = doc(file);
        for (at, _) in text.match_indices("OWNER/milestone-sync@") {
            let rest = &text[at + "OWNER/milestone-sync@".len()..];
            let reference: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
            let concrete = reference == "main"
                || reference.strip_prefix('v').is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()));
            if !concrete {
                continue;
            }
            seen += 1;
            assert!(
                reference == "main" || reference == major || reference == full,
                "{file}: `OWNER/milestone-sync@{reference}` names neither main, {major} nor {full}"
            );
        }
    }
    assert!(seen > 0, "the docs name a version somewhere");
}
