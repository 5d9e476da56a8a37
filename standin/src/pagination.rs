//! Page slicing and GitHub's `Link` header.
//!
//! GitHub links pages through `/repositories/{numeric id}/…` URLs (not `/repos/{o}/{r}`),
//! keeps the client's query parameters in order and appends `page=N`; rels come in the order
//! prev, next, last, first, and a single page gets no `Link` at all. Clients must follow the
//! URLs verbatim, so the stand-in serves those paths too.

/// GitHub's default and maximum page sizes.
pub(crate) const DEFAULT_PER_PAGE: usize = 30;
pub(crate) const MAX_PER_PAGE: usize = 100;

/// `per_page` and `page` from a query string: absent or unparsable values take the
/// defaults, `per_page` above 100 is clamped to 100, `page` 0 counts as 1.
pub(crate) fn page_params(query: Option<&str>) -> (usize, usize) {
    let per_page = query_param(query, "per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .map_or(DEFAULT_PER_PAGE, |n| n.min(MAX_PER_PAGE));
    let page = query_param(query, "page").and_then(|v| v.parse::<usize>().ok()).map_or(1, |n| n.max(1));
    (per_page, page)
}

/// The (raw, still percent-encoded) value of the first `name=` parameter.
pub(crate) fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The items of page `page`.
pub(crate) fn slice<T>(items: &[T], per_page: usize, page: usize) -> &[T] {
    let start = per_page.saturating_mul(page - 1).min(items.len());
    let end = start.saturating_add(per_page).min(items.len());
    &items[start..end]
}

/// The `Link` header value for page `page` of `total` items, or `None` for a single page.
/// `base` is the collection URL without query, e.g. `{api}/repositories/1/milestones`.
pub(crate) fn link_header(
    base: &str,
    query: Option<&str>,
    total: usize,
    per_page: usize,
    page: usize,
) -> Option<String> {
    let last = total.div_ceil(per_page).max(1);
    if last == 1 && page == 1 {
        return None;
    }
    let kept: Vec<&str> =
        query.unwrap_or("").split('&').filter(|p| !p.is_empty() && *p != "page" && !p.starts_with("page=")).collect();
    let url = |n: usize| {
        let mut params = kept.clone();
        let page_param = format!("page={n}");
        params.push(&page_param);
        format!("<{base}?{}>", params.join("&"))
    };
    let mut rels = Vec::new();
    if page > 1 {
        rels.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if page < last {
        rels.push(format!("{}; rel=\"next\"", url(page + 1)));
        rels.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        rels.push(format!("{}; rel=\"first\"", url(1)));
    }
    Some(rels.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_recorded_shape() {
        let base = "https://api.github.com/repositories/1000/issues";
        assert_eq!(
            link_header(base, Some("per_page=3"), 15, 3, 1).unwrap(),
            "<https://api.github.com/repositories/1000/issues?per_page=3&page=2>; rel=\"next\", <https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel=\"last\""
        );
        assert_eq!(
            link_header(base, Some("per_page=3&page=5"), 15, 3, 5).unwrap(),
            "<https://api.github.com/repositories/1000/issues?per_page=3&page=4>; rel=\"prev\", <https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel=\"first\""
        );
        assert_eq!(link_header(base, None, 3, 30, 1), None);
    }

    #[test]
    fn clamps_per_page() {
        assert_eq!(page_params(Some("per_page=500&page=0")), (100, 1));
        assert_eq!(page_params(None), (30, 1));
    }
}
