//! action.yml, the binary's defaults and the README must agree: the runner sets every
//! declared input with its default, a terminal run applies `config::INPUTS`' defaults instead, and
//! users read the README.

use std::collections::BTreeMap;

use milestone_sync::config::INPUTS;

fn action() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap()).unwrap()
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
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
fn readme_documents_every_input_and_output() {
    let readme = readme();
    for section in ["inputs", "outputs"] {
        for (name, spec) in names(section) {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}` |")))
                .unwrap_or_else(|| panic!("README has no table row for {section} `{name}`"));
            if section == "inputs" {
                let default = spec["default"].as_str().unwrap_or_default();
                let shown = if default.is_empty() { "(empty)".to_string() } else { format!("`{default}`") };
                assert!(row.contains(&shown), "README row for `{name}` shows the default {shown}: {row}");
            }
        }
    }
}
