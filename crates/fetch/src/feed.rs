//! Article links from RSS and Atom feeds, read by feed-rs.

/// Why a feed could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{feed}: not a readable RSS or Atom feed: {reason}")]
pub struct FeedError {
    /// The feed's URL.
    pub feed: String,
    /// What the feed parser said.
    pub reason: String,
}

/// The article URLs a feed lists, in feed order, each once. Relative links
/// are resolved against `feed_url`; entries without an http(s) link are
/// skipped.
pub fn article_urls(bytes: &[u8], feed_url: &str) -> Result<Vec<String>, FeedError> {
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url))
        .build()
        .parse(bytes)
        .map_err(|err| FeedError {
            feed: feed_url.to_owned(),
            reason: err.to_string(),
        })?;
    let mut urls: Vec<String> = Vec::new();
    for entry in feed.entries {
        // A link may be relative; an id (RSS guid, Atom id) counts only
        // when it is itself a URL.
        let web = |url: url::Url| matches!(url.scheme(), "http" | "https").then(|| url.to_string());
        let link = entry
            .links
            .iter()
            .find_map(|link| {
                url::Url::parse(&link.href)
                    .or_else(|_| url::Url::parse(feed_url).and_then(|base| base.join(&link.href)))
                    .ok()
                    .and_then(web)
            })
            .or_else(|| url::Url::parse(&entry.id).ok().and_then(web));
        if let Some(link) = link
            && !urls.contains(&link)
        {
            urls.push(link);
        }
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_atom_links_in_order_once_each() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><title>a</title><link>https://example.org/a</link></item>
            <item><title>b</title><link>/b</link></item>
            <item><title>a again</title><link>https://example.org/a</link></item>
            <item><title>no link</title><guid isPermaLink="false">x-1</guid></item>
            </channel></rss>"#;
        assert_eq!(
            article_urls(rss, "https://example.org/feed.xml").unwrap(),
            ["https://example.org/a", "https://example.org/b"]
        );
        let atom = br#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
            <title>t</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>
            <entry><title>c</title><id>urn:c</id><updated>2024-01-01T00:00:00Z</updated>
            <link href="https://example.net/c"/></entry></feed>"#;
        assert_eq!(
            article_urls(atom, "https://example.net/atom").unwrap(),
            ["https://example.net/c"]
        );
    }

    #[test]
    fn garbage_names_the_feed() {
        let err = article_urls(b"<html>no feed</html>", "https://example.org/f").unwrap_err();
        assert!(
            err.to_string().starts_with("https://example.org/f: "),
            "{err}"
        );
    }
}
