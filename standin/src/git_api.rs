//! REST handlers for the git database (`git/refs`, `git/commits`, `git/trees`, `git/blobs`)
//! and the contents endpoint, over [`Git`].
//!
//! These are what the product commits through: they must refuse what GitHub refuses (a ref
//! update that is not a fast-forward, unknown objects) with GitHub's messages, because the
//! product's retry path depends on recognising them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::git::{CommitInfo, Ident, TreeChange, TreeEntry};
use crate::milestones::node_id;
use crate::reply::Reply;
use crate::state::{Shared, State};

const DOC_REFS_GET: &str = "https://docs.github.com/rest/git/refs#get-a-reference";
const DOC_REFS_CREATE: &str = "https://docs.github.com/rest/git/refs#create-a-reference";
const DOC_REFS_UPDATE: &str = "https://docs.github.com/rest/git/refs#update-a-reference";
const DOC_REFS_DELETE: &str = "https://docs.github.com/rest/git/refs#delete-a-reference";
const DOC_COMMITS: &str = "https://docs.github.com/rest/git/commits#create-a-commit";
const DOC_TREES: &str = "https://docs.github.com/rest/git/trees#create-a-tree";
const DOC_BLOBS: &str = "https://docs.github.com/rest/git/blobs#create-a-blob";
const DOC_CONTENTS: &str = "https://docs.github.com/rest/repos/contents#get-repository-content";

/// The identity GitHub gives commits made with a workflow's `GITHUB_TOKEN`.
pub(crate) const BOT_NAME: &str = "github-actions[bot]";
pub(crate) const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

/// Base64 the way GitHub's contents and blobs endpoints serve it (Ruby's `encode64`): lines
/// of 60 characters, each ending in `\n`.
pub(crate) fn wrapped_base64(bytes: &[u8]) -> String {
    let flat = B64.encode(bytes);
    let mut out = String::with_capacity(flat.len() + flat.len() / 60 + 1);
    for chunk in flat.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
        out.push('\n');
    }
    out
}

fn ref_json(shared: &Shared, full_ref: &str, sha: &str) -> Value {
    let api = shared.repo_api_url();
    json!({
        "ref": full_ref,
        "node_id": node_id("03:Ref", full_ref),
        "url": format!("{api}/git/{full_ref}"),
        "object": {
            "sha": sha,
            "type": shared.git.object_type(sha).unwrap_or_else(|| "commit".into()),
            "url": format!("{api}/git/commits/{sha}"),
        },
    })
}

/// `GET git/ref/{ref}` (`ref` without the `refs/` prefix, e.g. `heads/main`).
pub(crate) fn get_ref(shared: &Shared, short_ref: &str) -> Reply {
    let full_ref = format!("refs/{short_ref}");
    match shared.git.read_ref(&full_ref) {
        Some(sha) => Reply::ok(ref_json(shared, &full_ref, &sha)),
        None => Reply::error(404, "Not Found", DOC_REFS_GET),
    }
}

/// `GET git/refs[/{prefix}]` and `GET git/matching-refs/{prefix}`: refs whose name starts
/// with `refs/{prefix}`. The legacy `git/refs/{exact}` form answers the single object.
pub(crate) fn list_refs(shared: &Shared, prefix: &str, exact_as_object: bool) -> Reply {
    let full = format!("refs/{prefix}");
    let matching: Vec<(String, String)> =
        shared.git.list_refs().into_iter().filter(|(name, _)| name.starts_with(&full)).collect();
    if exact_as_object {
        if let Some((name, sha)) = matching.iter().find(|(n, _)| *n == full) {
            return Reply::ok(ref_json(shared, name, sha));
        }
        if matching.is_empty() {
            return Reply::error(404, "Not Found", DOC_REFS_GET);
        }
    }
    Reply::ok(Value::Array(matching.iter().map(|(n, s)| ref_json(shared, n, s)).collect()))
}

pub(crate) fn create_ref(shared: &Shared, body: &Value) -> Reply {
    let (Some(full_ref), Some(sha)) =
        (body.get("ref").and_then(Value::as_str), body.get("sha").and_then(Value::as_str))
    else {
        return Reply::error(422, "Invalid request.", DOC_REFS_CREATE);
    };
    if !full_ref.starts_with("refs/") || full_ref.matches('/').count() < 2 || !shared.git.valid_ref_name(full_ref) {
        return Reply::error(
            422,
            "Reference name must start with 'refs/' and have at least two slashes.",
            DOC_REFS_CREATE,
        );
    }
    if shared.git.object_type(sha).is_none() {
        return Reply::error(422, "Object does not exist", DOC_REFS_CREATE);
    }
    match shared.git.update_ref(full_ref, sha, None) {
        Ok(()) => Reply::created(ref_json(shared, full_ref, sha)),
        Err(_) => Reply::error(422, "Reference already exists", DOC_REFS_CREATE),
    }
}

/// `PATCH git/refs/{ref}`: fast-forward only unless `force`, and atomic (compare-and-swap
/// on the value just read), so a push racing the request cannot be overwritten.
pub(crate) fn update_ref(shared: &Shared, short_ref: &str, body: &Value) -> Reply {
    let Some(sha) = body.get("sha").and_then(Value::as_str) else {
        return Reply::error(422, "Invalid request.\n\n\"sha\" wasn't supplied.", DOC_REFS_UPDATE);
    };
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    let full_ref = format!("refs/{short_ref}");
    let Some(current) = shared.git.read_ref(&full_ref) else {
        return Reply::error(422, "Reference does not exist", DOC_REFS_UPDATE);
    };
    if shared.git.object_type(sha).as_deref() != Some("commit") {
        return Reply::error(422, "Object does not exist", DOC_REFS_UPDATE);
    }
    if !force && !shared.git.is_ancestor(&current, sha) {
        return Reply::error(422, "Update is not a fast forward", DOC_REFS_UPDATE);
    }
    match shared.git.update_ref(&full_ref, sha, Some(&current)) {
        Ok(()) => Reply::ok(ref_json(shared, &full_ref, sha)),
        Err(_) => Reply::error(422, "Update is not a fast forward", DOC_REFS_UPDATE),
    }
}

pub(crate) fn delete_ref(shared: &Shared, short_ref: &str) -> Reply {
    let full_ref = format!("refs/{short_ref}");
    match shared.git.read_ref(&full_ref) {
        Some(current) => match shared.git.delete_ref(&full_ref, &current) {
            Ok(()) => Reply::no_content(),
            Err(_) => Reply::error(422, "Reference does not exist", DOC_REFS_DELETE),
        },
        None => Reply::error(422, "Reference does not exist", DOC_REFS_DELETE),
    }
}

fn person_json(i: &Ident) -> Value {
    json!({"name": i.name, "email": i.email, "date": i.iso_date()})
}

/// A commit's `verification` object: signed by GitHub (as a commit made through the API with
/// the workflow's token is) or not.
pub(crate) fn verification_json(state: &State, sha: &str, c: &CommitInfo) -> Value {
    if state.signed_commits.contains(sha) {
        json!({
            "verified": true,
            "reason": "valid",
            "signature": "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJnstandin\n-----END PGP SIGNATURE-----\n",
            "payload": c.raw,
            "verified_at": c.committer.iso_date(),
        })
    } else {
        json!({"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null})
    }
}

fn commit_json(shared: &Shared, state: &State, sha: &str, c: &CommitInfo) -> Value {
    let api = shared.repo_api_url();
    let html = shared.html_url();
    let verification = verification_json(state, sha, c);
    json!({
        "sha": sha,
        "node_id": node_id("06:Commit", sha),
        "url": format!("{api}/git/commits/{sha}"),
        "html_url": format!("{html}/commit/{sha}"),
        "author": person_json(&c.author),
        "committer": person_json(&c.committer),
        "tree": {"sha": c.tree, "url": format!("{api}/git/trees/{}", c.tree)},
        "message": c.message,
        "parents": c.parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{api}/git/commits/{p}"),
            "html_url": format!("{html}/commit/{p}"),
        })).collect::<Vec<_>>(),
        "verification": verification,
    })
}

pub(crate) fn get_commit(shared: &Shared, state: &State, sha: &str) -> Reply {
    match shared.git.commit(sha) {
        Some(c) => Reply::ok(commit_json(shared, state, sha, &c)),
        None => Reply::not_found(),
    }
}

/// Reads `{name, email, date?}`; `Ok(None)` when absent.
fn parse_person(v: Option<&Value>, field: &str) -> Result<Option<Ident>, Reply> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let bad = || Reply::error(422, &format!("Invalid request.\n\nInvalid {field}."), DOC_COMMITS);
    let name = v.get("name").and_then(Value::as_str).ok_or_else(bad)?;
    let email = v.get("email").and_then(Value::as_str).ok_or_else(bad)?;
    let (time, offset_minutes) = match v.get("date").and_then(Value::as_str) {
        Some(d) => {
            let t = chrono::DateTime::parse_from_rfc3339(d).map_err(|_| bad())?;
            (t.timestamp(), t.offset().local_minus_utc() / 60)
        }
        None => (chrono::Utc::now().timestamp(), 0),
    };
    Ok(Some(Ident { name: name.into(), email: email.into(), time, offset_minutes }))
}

/// `POST git/commits`. Without `author`, the token's identity (github-actions[bot]);
/// without `committer`, the author. Commits made without an explicit committer are
/// reported Verified, as GitHub signs them for an Actions or App token.
pub(crate) fn create_commit(shared: &Shared, state: &mut State, body: &Value) -> Reply {
    let Some(message) = body.get("message").and_then(Value::as_str) else {
        return Reply::error(422, "Invalid request.\n\n\"message\" wasn't supplied.", DOC_COMMITS);
    };
    let Some(tree) = body.get("tree").and_then(Value::as_str) else {
        return Reply::error(422, "Invalid request.\n\n\"tree\" wasn't supplied.", DOC_COMMITS);
    };
    if shared.git.object_type(tree).as_deref() != Some("tree") {
        return Reply::error(422, "Tree SHA does not exist", DOC_COMMITS);
    }
    let mut parents = Vec::new();
    match body.get("parents") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ps)) => {
            for p in ps {
                match p.as_str() {
                    Some(p) if shared.git.object_type(p).as_deref() == Some("commit") => parents.push(p.to_string()),
                    _ => {
                        return Reply::error(422, "Parent SHA does not exist or is not a commit object", DOC_COMMITS);
                    }
                }
            }
        }
        Some(_) => {
            return Reply::error(422, "Invalid request.\n\nFor 'properties/parents', is not an array.", DOC_COMMITS);
        }
    }
    let author = match parse_person(body.get("author"), "author") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let committer = match parse_person(body.get("committer"), "committer") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let signed = committer.is_none();
    let author = author.unwrap_or_else(|| Ident {
        name: BOT_NAME.into(),
        email: BOT_EMAIL.into(),
        time: chrono::Utc::now().timestamp(),
        offset_minutes: 0,
    });
    let committer = committer.unwrap_or_else(|| author.clone());
    let sha = match shared.git.commit_tree(tree, &parents, message, &author, &committer) {
        Ok(s) => s,
        Err(e) => return Reply::error(500, &format!("git commit-tree failed: {e}"), DOC_COMMITS),
    };
    if signed {
        state.signed_commits.insert(sha.clone());
    }
    match shared.git.commit(&sha) {
        Some(c) => Reply::created(commit_json(shared, state, &sha, &c)),
        None => Reply::error(500, "commit vanished", DOC_COMMITS),
    }
}

fn tree_entry_json(shared: &Shared, e: &TreeEntry) -> Value {
    let api = shared.repo_api_url();
    let mut v = json!({"path": e.path, "mode": e.mode, "type": e.kind, "sha": e.sha});
    match e.kind.as_str() {
        "blob" => {
            v["size"] = json!(e.size.unwrap_or(0));
            v["url"] = json!(format!("{api}/git/blobs/{}", e.sha));
        }
        "tree" => v["url"] = json!(format!("{api}/git/trees/{}", e.sha)),
        _ => {}
    }
    v
}

fn tree_json(shared: &Shared, sha: &str, recursive: bool) -> Option<Value> {
    let entries = shared.git.ls_tree(sha, recursive)?;
    Some(json!({
        "sha": sha,
        "url": format!("{}/git/trees/{sha}", shared.repo_api_url()),
        "tree": entries.iter().map(|e| tree_entry_json(shared, e)).collect::<Vec<_>>(),
        "truncated": false,
    }))
}

/// `GET git/trees/{sha}`; any `recursive` value turns recursion on, as on GitHub.
pub(crate) fn get_tree(shared: &Shared, sha_or_ref: &str, query: Option<&str>) -> Reply {
    let recursive = crate::pagination::query_param(query, "recursive").is_some();
    match shared.git.resolve(sha_or_ref, "tree").and_then(|t| tree_json(shared, &t, recursive)) {
        Some(v) => Reply::ok(v),
        None => Reply::not_found(),
    }
}

/// `POST git/trees`: entries with `content` (a new blob), `sha` (an existing object) or
/// `sha: null` (delete), on top of `base_tree`. Nested paths create the directories.
pub(crate) fn create_tree(shared: &Shared, body: &Value) -> Reply {
    let invalid = |msg: &str| Reply::error(422, msg, DOC_TREES);
    let Some(entries) = body.get("tree").and_then(Value::as_array) else {
        return invalid("Invalid request.\n\n\"tree\" wasn't supplied.");
    };
    let base = match body.get("base_tree") {
        None | Some(Value::Null) => None,
        Some(Value::String(b)) if shared.git.object_type(b).as_deref() == Some("tree") => Some(b.clone()),
        Some(_) => return invalid("base_tree is not a valid tree oid"),
    };
    let mut changes = Vec::new();
    // Inline contents are written as blobs in one batch once every entry is checked:
    // (index in `changes`, content).
    let mut contents: Vec<(usize, &[u8])> = Vec::new();
    for e in entries {
        let Some(path) = e.get("path").and_then(Value::as_str) else {
            return invalid("Invalid request.\n\n\"path\" wasn't supplied.");
        };
        if path.is_empty()
            || path.starts_with('/')
            || path.ends_with('/')
            || path.split('/').any(|c| c.is_empty() || c == "." || c == ".." || c == ".git")
        {
            return invalid("tree.path contains a malformed path component");
        }
        let mode = e.get("mode").and_then(Value::as_str).unwrap_or("100644");
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("blob");
        let expected_kind = match mode {
            "100644" | "100755" | "120000" => "blob",
            "040000" => "tree",
            "160000" => "commit",
            _ => {
                return invalid("Invalid request.\n\nFor 'properties/mode', is not one of the allowed values.");
            }
        };
        if kind != expected_kind {
            return invalid("Invalid request.\n\nThe tree entry type does not match its mode.");
        }
        let sha = match (e.get("sha"), e.get("content")) {
            (Some(Value::Null), None) => {
                changes.push(TreeChange::Delete { path: path.into() });
                continue;
            }
            (Some(Value::String(s)), None) => {
                // A submodule's commit need not exist here; every other object must.
                if kind != "commit" && shared.git.object_type(s).as_deref() != Some(kind) {
                    return invalid("GitRPC::BadObjectState");
                }
                s.clone()
            }
            (None, Some(Value::String(c))) if kind == "blob" => {
                contents.push((changes.len(), c.as_bytes()));
                String::new()
            }
            _ => {
                return invalid("Invalid request.\n\nEither \"sha\" or \"content\" must be supplied, not both.");
            }
        };
        changes.push(TreeChange::Put { path: path.into(), mode: mode.into(), kind: kind.into(), sha });
    }
    let bytes: Vec<&[u8]> = contents.iter().map(|(_, c)| *c).collect();
    let blobs = match shared.git.write_blobs(&bytes) {
        Ok(shas) => shas,
        Err(err) => return Reply::error(500, &err, DOC_TREES),
    };
    for ((i, _), blob) in contents.iter().zip(blobs) {
        if let TreeChange::Put { sha, .. } = &mut changes[*i] {
            *sha = blob;
        }
    }
    match shared.git.build_tree(base.as_deref(), &changes) {
        Ok(sha) => match tree_json(shared, &sha, false) {
            Some(v) => Reply::created(v),
            None => Reply::error(500, "tree vanished", DOC_TREES),
        },
        Err(e) => invalid(&format!("GitRPC::BadObjectState ({e})")),
    }
}

pub(crate) fn create_blob(shared: &Shared, body: &Value) -> Reply {
    let Some(content) = body.get("content").and_then(Value::as_str) else {
        return Reply::error(422, "Invalid request.\n\n\"content\" wasn't supplied.", DOC_BLOBS);
    };
    let bytes = match body.get("encoding").and_then(Value::as_str).unwrap_or("utf-8") {
        "utf-8" | "utf8" => content.as_bytes().to_vec(),
        "base64" => {
            let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
            match B64.decode(compact) {
                Ok(b) => b,
                Err(_) => {
                    return Reply::error(422, "Invalid request.\n\nContent is not valid Base64.", DOC_BLOBS);
                }
            }
        }
        other => {
            return Reply::error(422, &format!("encoding must be utf-8 or base64, not {other}"), DOC_BLOBS);
        }
    };
    match shared.git.write_blob(&bytes) {
        Ok(sha) => Reply::created(json!({
            "sha": sha,
            "url": format!("{}/git/blobs/{sha}", shared.repo_api_url()),
        })),
        Err(e) => Reply::error(500, &e, DOC_BLOBS),
    }
}

pub(crate) fn get_blob(shared: &Shared, sha: &str) -> Reply {
    match shared.git.read_blob(sha) {
        Some(bytes) => Reply::ok(json!({
            "sha": sha,
            "node_id": node_id("04:Blob", sha),
            "size": bytes.len(),
            "url": format!("{}/git/blobs/{sha}", shared.repo_api_url()),
            "content": wrapped_base64(&bytes),
            "encoding": "base64",
        })),
        None => Reply::not_found(),
    }
}

fn content_item(shared: &Shared, e: &TreeEntry, path: &str, git_ref: &str) -> Value {
    let api = shared.repo_api_url();
    let html = shared.html_url();
    let kind = match (e.kind.as_str(), e.mode.as_str()) {
        ("tree", _) => "dir",
        ("commit", _) => "submodule",
        (_, "120000") => "symlink",
        _ => "file",
    };
    let self_url = format!("{api}/contents/{path}?ref={git_ref}");
    let git_url = match kind {
        "dir" => format!("{api}/git/trees/{}", e.sha),
        _ => format!("{api}/git/blobs/{}", e.sha),
    };
    let html_url = format!("{html}/{}/{git_ref}/{path}", if kind == "dir" { "tree" } else { "blob" });
    let download = (kind == "file").then(|| {
        format!("https://raw.githubusercontent.com/{}/{}/{git_ref}/{path}", shared.config.owner, shared.config.repo)
    });
    json!({
        "name": path.rsplit('/').next().unwrap_or(path),
        "path": path,
        "sha": e.sha,
        "size": if kind == "dir" { 0 } else { e.size.unwrap_or(0) },
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": download,
        "type": kind,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    })
}

/// `GET contents/{path}?ref=`: a file with base64 content, or a directory listing.
pub(crate) fn get_contents(shared: &Shared, path: &str, git_ref: Option<&str>) -> Reply {
    let git_ref = git_ref.unwrap_or(&shared.config.default_branch);
    let Some(commit) = shared.git.resolve(git_ref, "commit") else {
        return Reply::error(404, &format!("No commit found for the ref {git_ref}"), DOC_CONTENTS);
    };
    let path = path.trim_matches('/');
    let listing = |tree: &str| -> Reply {
        let entries = shared.git.ls_tree(tree, false).unwrap_or_default();
        Reply::ok(Value::Array(
            entries
                .iter()
                .map(|e| {
                    let full = if path.is_empty() { e.path.clone() } else { format!("{path}/{}", e.path) };
                    content_item(shared, e, &full, git_ref)
                })
                .collect(),
        ))
    };
    if path.is_empty() {
        return listing(&commit);
    }
    let Some(entry) = shared.git.entry_at(&commit, path) else {
        return Reply::error(404, "Not Found", DOC_CONTENTS);
    };
    if entry.kind == "tree" {
        return listing(&entry.sha);
    }
    let mut item = content_item(shared, &entry, path, git_ref);
    if entry.kind == "blob" {
        let bytes = shared.git.read_blob(&entry.sha).unwrap_or_default();
        item["content"] = json!(wrapped_base64(&bytes));
        item["encoding"] = json!("base64");
    }
    Reply::ok(item)
}
