//! The one-request commit (`createCommitOnBranch`): the client's mutation and input against
//! GitHub's GraphQL schema (tests/fixtures/graphql, from @octokit/graphql-schema), and the
//! client against the stand-in's `POST /graphql`: a commit, a stale head, a protected branch,
//! a missing branch, a lost answer.

use std::collections::HashMap;

use github_standin::{Fault, Protection, Trigger};
use graphql_parser::query::{Definition as QueryDefinition, OperationDefinition, Selection, SelectionSet};
use graphql_parser::schema::{Definition, Document, Type, TypeDefinition};
use milestone_sync::github::client::graphql::{COMMIT_ON_BRANCH, commit_request};
use milestone_sync::github::{GitHub, GitHubError, TreeFile};
use serde_json::{Value, json};

use crate::github_client::{Env, git};

const SCHEMA: &str = include_str!("../fixtures/graphql/schema-subset.graphql");

/// An object type's field: its type, and its arguments' names and types.
type Field = (String, Vec<(String, String)>);

/// The schema's types by name: object types' fields (name → type), input types' fields
/// (name → (type, has a default)), and the scalars.
struct Schema {
    objects: HashMap<String, HashMap<String, Field>>,
    inputs: HashMap<String, HashMap<String, (Type<'static, String>, bool)>>,
    scalars: Vec<String>,
}

fn schema() -> Schema {
    let doc: Document<'static, String> = graphql_parser::parse_schema::<String>(SCHEMA).unwrap().into_static();
    let mut s = Schema { objects: HashMap::new(), inputs: HashMap::new(), scalars: Vec::new() };
    for def in doc.definitions {
        match def {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => {
                let fields = o
                    .fields
                    .into_iter()
                    .map(|f| {
                        let args = f.arguments.into_iter().map(|a| (a.name, a.value_type.to_string())).collect();
                        (f.name, (f.field_type.to_string(), args))
                    })
                    .collect();
                s.objects.insert(o.name, fields);
            }
            Definition::TypeDefinition(TypeDefinition::InputObject(i)) => {
                let fields =
                    i.fields.into_iter().map(|f| (f.name, (f.value_type, f.default_value.is_some()))).collect();
                s.inputs.insert(i.name, fields);
            }
            Definition::TypeDefinition(TypeDefinition::Scalar(sc)) => s.scalars.push(sc.name),
            _ => {}
        }
    }
    s
}

/// The named type under any `!` and `[]`.
fn named(t: &str) -> &str {
    t.trim_matches(|c| c == '!' || c == '[' || c == ']')
}

/// Every field selected exists on its type, down the selection.
fn check_selection(schema: &Schema, on: &str, set: &SelectionSet<'_, String>, path: &str) {
    let fields = schema.objects.get(on).unwrap_or_else(|| panic!("{path}: no object type {on} in the schema"));
    for item in &set.items {
        let Selection::Field(field) = item else { panic!("{path}: only fields are selected") };
        let (ty, _) = fields.get(&field.name).unwrap_or_else(|| panic!("{path}: {on} has no field {}", field.name));
        let inner = named(ty);
        if field.selection_set.items.is_empty() {
            assert!(
                schema.scalars.contains(&inner.to_string()) || ["String", "ID", "Boolean", "Int"].contains(&inner),
                "{path}.{}: {inner} is not a scalar; select its fields",
                field.name
            );
        } else {
            check_selection(schema, inner, &field.selection_set, &format!("{path}.{}", field.name));
        }
    }
}

/// A JSON value against an input type: every key a field, every required field there, the
/// kinds right.
fn check_input(schema: &Schema, ty: &Type<'static, String>, value: &Value, path: &str) {
    match ty {
        Type::NonNullType(inner) => {
            assert!(!value.is_null(), "{path}: required");
            check_input(schema, inner, value, path);
        }
        _ if value.is_null() => {}
        Type::ListType(inner) => {
            let items = value.as_array().unwrap_or_else(|| panic!("{path}: want a list, got {value}"));
            for (i, item) in items.iter().enumerate() {
                check_input(schema, inner, item, &format!("{path}[{i}]"));
            }
        }
        Type::NamedType(name) => match schema.inputs.get(name) {
            Some(fields) => {
                let object = value.as_object().unwrap_or_else(|| panic!("{path}: want a {name} object, got {value}"));
                for key in object.keys() {
                    assert!(fields.contains_key(key), "{path}: {name} has no field {key}");
                }
                for (field, (field_type, has_default)) in fields {
                    let v = object.get(field).unwrap_or(&Value::Null);
                    if matches!(field_type, Type::NonNullType(_)) && !has_default {
                        assert!(object.contains_key(field), "{path}: {name}.{field} is required");
                    }
                    check_input(schema, field_type, v, &format!("{path}.{field}"));
                }
            }
            None if name == "Boolean" => assert!(value.is_boolean(), "{path}: want a Boolean"),
            None if name == "Int" => assert!(value.is_i64(), "{path}: want an Int"),
            None => {
                assert!(
                    schema.scalars.contains(name) || ["String", "ID"].contains(&name.as_str()),
                    "{path}: {name} is not in the schema"
                );
                assert!(value.is_string(), "{path}: {name} is sent as a string, got {value}");
            }
        },
    }
}

#[test]
fn the_mutation_and_its_input_match_githubs_schema() {
    let schema = schema();
    let doc = graphql_parser::parse_query::<String>(COMMIT_ON_BRANCH).unwrap();
    let [QueryDefinition::Operation(OperationDefinition::Mutation(mutation))] = doc.definitions.as_slice() else {
        panic!("one mutation, got {doc}");
    };
    // The variable's type is the argument's, exactly.
    let (_, args) = &schema.objects["Mutation"]["createCommitOnBranch"];
    let [variable] = mutation.variable_definitions.as_slice() else { panic!("one variable") };
    let Selection::Field(field) = &mutation.selection_set.items[0] else { panic!() };
    assert_eq!(field.name, "createCommitOnBranch");
    let [(arg, graphql_parser::query::Value::Variable(used))] = field.arguments.as_slice() else { panic!() };
    assert_eq!(used, &variable.name);
    assert!(args.contains(&(arg.clone(), variable.var_type.to_string())), "{args:?} vs {arg}: {}", variable.var_type);
    check_selection(&schema, "Mutation", &mutation.selection_set, "mutation");

    // The input the client sends, with files and a multi-line message, and with none.
    let files = [
        TreeFile {
            path: ".ruru/projects/p/epics/EPIC-001_x.md".into(),
            content: "+++\nid = \"EPIC-001\"\n+++\n".into(),
        },
        TreeFile { path: "ü dir/a.md".into(), content: String::new() },
    ];
    for request in [
        commit_request("acme/plan", "main", &"a".repeat(40), "milestone-sync: 2 changes\n\n- one\n- two", &files),
        commit_request("acme/plan", "main", &"b".repeat(40), "one line", &[]),
    ] {
        assert_eq!(request["query"], COMMIT_ON_BRANCH);
        let input_type = Type::NonNullType(Box::new(Type::NamedType("CreateCommitOnBranchInput".to_string())));
        check_input(&schema, &input_type, &request["variables"]["input"], "$input");
    }
}

#[test]
fn the_schema_check_is_not_vacuous() {
    let schema = schema();
    let input_type = Type::NamedType("CreateCommitOnBranchInput".to_string());
    let good = commit_request("acme/plan", "main", "abc", "m", &[]);
    let mut missing = good["variables"]["input"].clone();
    missing.as_object_mut().unwrap().remove("expectedHeadOid");
    let mut unknown = good["variables"]["input"].clone();
    unknown["branch"]["refName"] = json!("main");
    for bad in [missing, unknown] {
        let result = std::panic::catch_unwind(|| check_input(&schema, &input_type, &bad, "$input"));
        assert!(result.is_err(), "{bad}");
    }
    let wrong = graphql_parser::parse_query::<String>(
        "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { sha } } }",
    )
    .unwrap();
    let QueryDefinition::Operation(OperationDefinition::Mutation(m)) = &wrong.definitions[0] else { panic!() };
    assert!(std::panic::catch_unwind(|| check_selection(&schema, "Mutation", &m.selection_set, "m")).is_err());
}

fn files(n: usize) -> Vec<TreeFile> {
    (0..n).map(|i| TreeFile { path: format!("plan/f{i}.md"), content: format!("file {i}\n") }).collect()
}

#[tokio::test]
async fn a_commit_in_one_request_lands_verified_on_the_expected_head() {
    let env = Env::start();
    let client = env.client();
    let head = client.branch_head("main").await.unwrap();
    let message = "milestone-sync: 2 changes\n\n- EPIC-001\n- EPIC-002";
    let sha = client.commit_on_branch("main", &head, message, &files(2)).await.unwrap();
    assert_eq!(client.branch_head("main").await.unwrap(), sha);
    let parts = client.commit_parts(&sha).await.unwrap();
    assert_eq!(parts.parents, [head]);
    assert_eq!(parts.message.trim(), message);
    assert_eq!(git(&env.git_dir(), &["show", &format!("{sha}:plan/f1.md")]), "file 1");
    // One request for the commit, counted under its own endpoint.
    assert_eq!(env.count("POST", "/graphql"), 1);
    assert!(client.call_counts().contains(&("POST /graphql".to_string(), 1)));
}

#[tokio::test]
async fn a_head_that_moved_protection_and_a_missing_branch_are_refused_as_github_does() {
    let env = Env::start();
    let client = env.client();
    let head = client.branch_head("main").await.unwrap();
    env.standin.push_files(vec![("other.md".into(), "pushed meanwhile\n".into())], "someone else");
    match client.commit_on_branch("main", &head, "m", &files(1)).await {
        Err(GitHubError::NotFastForward) => {}
        other => panic!("{other:?}"),
    }
    let moved = client.branch_head("main").await.unwrap();
    assert_ne!(moved, head, "nothing was committed on the stale head");
    assert!(matches!(
        client.commit_on_branch("no-such-branch", &moved, "m", &files(1)).await,
        Err(GitHubError::NotFound { .. })
    ));
    for protection in [Protection::Classic, Protection::Ruleset] {
        env.standin.protect_branch(Some(protection));
        match client.commit_on_branch("main", &moved, "m", &files(1)).await {
            Err(GitHubError::ProtectedBranch { branch, .. }) => assert_eq!(branch, "main"),
            other => panic!("{protection:?}: {other:?}"),
        }
    }
    assert_eq!(client.branch_head("main").await.unwrap(), moved);
}

#[tokio::test]
async fn a_lost_answer_to_the_commit_is_not_sent_again_by_the_client() {
    let env = Env::start();
    let client = env.client();
    let head = client.branch_head("main").await.unwrap();
    env.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("POST", "/graphql") });
    let result = client.commit_on_branch("main", &head, "m", &files(1)).await;
    assert!(matches!(result, Err(GitHubError::Http { status: 502, .. } | GitHubError::Transport { .. })), "{result:?}");
    // Made once (the answer was lost, not the commit), sent once.
    assert_eq!(env.count("POST", "/graphql"), 1);
    assert_ne!(client.branch_head("main").await.unwrap(), head);
}

#[test]
fn the_stand_ins_errors_have_githubs_shape() {
    // Over plain HTTP, as a GraphQL client sees them: 200, `data` null, `errors[]` with
    // type, path, locations and message.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = Env::start();
    let head = rt.block_on(async { env.client().branch_head("main").await.unwrap() });
    let stale = "0000000000000000000000000000000000000000";
    let body = commit_request(
        &format!("{}/{}", crate::github_client::OWNER, crate::github_client::REPO),
        "main",
        stale,
        "m",
        &[],
    );
    let answer: Value = ureq_post(&env, &body);
    assert_eq!(answer["data"]["createCommitOnBranch"], Value::Null);
    let error = &answer["errors"][0];
    assert_eq!(error["type"], "STALE_DATA");
    assert_eq!(error["path"], json!(["createCommitOnBranch"]));
    assert!(error["locations"][0]["line"].is_u64());
    assert_eq!(
        error["message"],
        format!("Expected branch to point to \"{stale}\" but it did not.  Pull and try again.")
    );
    // A commit: exactly the selection, in the schema's types (GitObjectID, URI as strings).
    let repository = format!("{}/{}", crate::github_client::OWNER, crate::github_client::REPO);
    let files = [TreeFile { path: "a.md".into(), content: "a\n".into() }];
    let answer = ureq_post(&env, &commit_request(&repository, "main", &head, "m", &files));
    assert!(answer.get("errors").is_none(), "{answer}");
    let commit = &answer["data"]["createCommitOnBranch"]["commit"];
    assert_eq!(answer["data"].as_object().unwrap().len(), 1, "{answer}");
    assert_eq!(commit.as_object().unwrap().keys().collect::<Vec<_>>(), ["oid", "url"], "{answer}");
    let oid = commit["oid"].as_str().unwrap();
    assert!(oid.len() == 40 && oid.chars().all(|c| c.is_ascii_hexdigit()), "{oid}");
    assert!(commit["url"].as_str().unwrap().ends_with(&format!("/commit/{oid}")), "{answer}");
    let schema = schema();
    let (payload_commit, _) = &schema.objects["CreateCommitOnBranchPayload"]["commit"];
    assert_eq!(payload_commit, "Commit");
    for field in ["oid", "url"] {
        assert!(schema.objects["Commit"].contains_key(field), "{field}");
    }
}

/// Posts a GraphQL body to the stand-in (plain HTTP/1.1 on a socket, as any client would)
/// with the test token; the answer's JSON.
fn ureq_post(env: &Env, body: &Value) -> Value {
    use std::io::{Read as _, Write as _};
    let url = env.standin.api_url();
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let body = body.to_string();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nUser-Agent: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        crate::github_client::TOKEN,
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, json) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(json).unwrap()
}
