//! The answer a handler produces, before the server adds GitHub's common headers.

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply { status, body: Some(body), headers: Vec::new() }
    }

    pub(crate) fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    /// 201 with `Location`, as GitHub answers a create.
    pub(crate) fn created(body: Value) -> Reply {
        let location = body.get("url").and_then(Value::as_str).map(str::to_string);
        let mut r = Reply::json(201, body);
        if let Some(l) = location {
            r.headers.push(("location".into(), l));
        }
        r
    }

    pub(crate) fn no_content() -> Reply {
        Reply { status: 204, body: None, headers: Vec::new() }
    }

    pub(crate) fn with_header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_string(), value));
        self
    }

    /// GitHub's plain error body: message, documentation_url and the status as a string.
    pub(crate) fn error(status: u16, message: &str, documentation_url: &str) -> Reply {
        Reply::json(
            status,
            json!({
                "message": message,
                "documentation_url": documentation_url,
                "status": status.to_string(),
            }),
        )
    }

    pub(crate) fn not_found() -> Reply {
        Reply::error(404, "Not Found", "https://docs.github.com/rest")
    }

    pub(crate) fn bad_credentials() -> Reply {
        Reply::error(401, "Bad credentials", "https://docs.github.com/rest")
    }

    pub(crate) fn bad_json() -> Reply {
        Reply::error(400, "Problems parsing JSON", "https://docs.github.com/rest")
    }

    /// 422 "Validation Failed" with one `errors[]` entry, shaped like GitHub's recordings.
    pub(crate) fn validation(resource: &str, code: &str, field: &str, documentation_url: &str) -> Reply {
        Reply::json(
            422,
            json!({
                "message": "Validation Failed",
                "errors": [{"resource": resource, "code": code, "field": field}],
                "documentation_url": documentation_url,
                "status": "422",
            }),
        )
    }
}
