//! Where the API lives and how its URLs are built and followed: the base (github.com or a
//! GitHub Enterprise Server prefix), percent-encoding, and which `Link` targets may be
//! followed with the token (octocrab's `Page<T>` reads the headers).

use http::Uri;

/// Where the API lives: `origin` is `scheme://host[:port]`, `prefix` the path before `/repos`
/// (`""` on github.com, `"/api/v3"` on GitHub Enterprise Server), never ending in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiBase {
    pub(super) origin: String,
    pub(super) prefix: String,
}

impl ApiBase {
    /// Parses `GITHUB_API_URL`-style input; a trailing slash or none makes no difference.
    pub(super) fn parse(api_url: &str) -> anyhow::Result<ApiBase> {
        let trimmed = api_url.trim();
        let uri: Uri =
            trimmed.parse().map_err(|e| anyhow::anyhow!("the GitHub API URL {trimmed:?} is not a URL: {e}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            anyhow::bail!("the GitHub API URL {trimmed:?} needs a scheme and a host, like https://api.github.com");
        };
        if scheme != "https" && scheme != "http" {
            anyhow::bail!("the GitHub API URL {trimmed:?} must start with https:// (or http://)");
        }
        if uri.query().is_some() {
            anyhow::bail!("the GitHub API URL {trimmed:?} must not hold a query");
        }
        Ok(ApiBase { origin: format!("{scheme}://{authority}"), prefix: uri.path().trim_end_matches('/').to_string() })
    }

    /// The absolute URL of an API path that starts with `/`.
    pub(super) fn url(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'));
        format!("{}{}{}", self.origin, self.prefix, path)
    }

    /// GitHub's GraphQL endpoint for this API: `https://api.github.com/graphql`, or
    /// `https://HOST/api/graphql` for a GitHub Enterprise Server's `https://HOST/api/v3`.
    pub(super) fn graphql(&self) -> String {
        match self.prefix.strip_suffix("/v3") {
            Some(api) => format!("{}{api}/graphql", self.origin),
            None => format!("{}{}/graphql", self.origin, self.prefix),
        }
    }

    /// The URL a `Link` header names, taken verbatim when it is absolute. It must point at the
    /// same origin: the token goes with every request and must not leave for another host.
    pub(super) fn follow(&self, link: &str) -> Result<String, String> {
        if link.starts_with('/') {
            return Ok(format!("{}{}", self.origin, link));
        }
        let uri: Uri = link.parse().map_err(|_| format!("the Link header names {link:?}, which is not a URL"))?;
        match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) if format!("{scheme}://{authority}") == self.origin => Ok(link.to_string()),
            _ => Err(format!(
                "the Link header points away from {} ({link:?}); not following it with the token",
                self.origin
            )),
        }
    }
}

/// Percent-encodes one path segment (or query value): everything but RFC 3986's unreserved
/// characters, so that spaces, `#`, `?`, `%` and non-ASCII names reach GitHub intact.
pub(super) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-encodes a repository path or branch name segment by segment, keeping the `/`s.
pub(super) fn encode_path(path: &str) -> String {
    path.split('/').map(encode_component).collect::<Vec<_>>().join("/")
}
