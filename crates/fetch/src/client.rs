//! One HTTP fetch: a GET with the archive's validators, redirects followed
//! up to a limit, timeouts, a body size limit, gzip and brotli decoding, and
//! the response facts an archivist needs.

use std::time::Duration;

use newsarc_model::record::HttpFacts;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};

/// The HTTP client's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Sent as `User-Agent`.
    pub user_agent: String,
    /// The longest wait for a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// The longest a whole request may take, body included.
    pub timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// The largest body accepted, after decompression.
    pub max_body_bytes: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            user_agent: format!(
                "newsarc/{} (news revision archive; +https://example.invalid/newsarc)",
                env!("CARGO_PKG_VERSION")
            ),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_redirects: 10,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What the archive knows about a URL's last stored page, sent so that an
/// unchanged page costs a `304` and no download.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// Sent as `If-None-Match`.
    pub etag: Option<String>,
    /// Sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// A fetch that got an answer worth recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx page and its (decoded) body.
    Page {
        /// The response's facts.
        facts: HttpFacts,
        /// The body.
        body: Vec<u8>,
    },
    /// `304 Not Modified` to a conditional request.
    NotModified {
        /// The response's facts.
        facts: HttpFacts,
    },
    /// `404 Not Found` or `410 Gone`.
    Gone {
        /// The response's facts.
        facts: HttpFacts,
    },
}

impl Answer {
    /// The response's facts.
    pub fn facts(&self) -> &HttpFacts {
        match self {
            Self::Page { facts, .. } | Self::NotModified { facts } | Self::Gone { facts } => facts,
        }
    }
}

/// A fetch that produced nothing to archive. The messages leave the URL
/// out: every report prints it beside them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL is not an absolute http(s) URL.
    #[error("{url} is not an http or https URL")]
    BadUrl {
        /// The URL given.
        url: String,
    },
    /// No connection within the connect timeout, or no whole answer within
    /// the total timeout.
    #[error("timed out after {seconds:.1} s")]
    Timeout {
        /// The URL asked for.
        url: String,
        /// The timeout that ran out.
        seconds: f64,
    },
    /// More redirects than allowed.
    #[error("more than {limit} redirects")]
    TooManyRedirects {
        /// The URL asked for.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The body is larger than allowed; nothing of it is kept.
    #[error("the body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL asked for.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// The server answered with a status that is neither a page, a 304 nor
    /// gone: a 5xx, a 429, a 403.
    #[error("the server answered {status}")]
    Status {
        /// The URL asked for.
        url: String,
        /// The status.
        status: u16,
        /// The wait the server asked for in `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// Connection refused, DNS, TLS or protocol errors.
    #[error("{reason}")]
    Transport {
        /// The URL asked for.
        url: String,
        /// What failed, with its causes.
        reason: String,
    },
}

impl FetchError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The wait the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The HTTP client (HTTP/1.1 and HTTP/2 over rustls).
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
}

impl Fetcher {
    /// A client with `settings`.
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(settings.max_redirects))
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|err| FetchError::Transport {
                url: String::new(),
                reason: format!("cannot build the HTTP client: {}", chain(&err)),
            })?;
        Ok(Self { client, settings })
    }

    /// The limits in force.
    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// GETs `url`, conditionally when `validators` hold anything.
    pub async fn fetch(&self, url: &str, validators: &Validators) -> Result<Answer, FetchError> {
        let parsed = url::Url::parse(url).map_err(|_| FetchError::BadUrl { url: url.into() })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl { url: url.into() });
        }
        let mut request = self.client.get(parsed);
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let mut response = request.send().await.map_err(|err| self.error(url, err))?;
        let status = response.status();
        let facts = facts(url, &response);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Answer::NotModified { facts });
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(Answer::Gone { facts });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.into(),
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        let limit = self.settings.max_body_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.into(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| self.error(url, err))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer::Page { facts, body })
    }

    fn error(&self, url: &str, err: reqwest::Error) -> FetchError {
        if err.is_timeout() {
            return FetchError::Timeout {
                url: url.into(),
                seconds: self.settings.timeout.as_secs_f64(),
            };
        }
        if err.is_redirect() {
            return FetchError::TooManyRedirects {
                url: url.into(),
                limit: self.settings.max_redirects,
            };
        }
        FetchError::Transport {
            url: url.into(),
            // The URL is the report's own field; reqwest repeats it.
            reason: chain(&err.without_url()),
        }
    }
}

fn facts(url: &str, response: &reqwest::Response) -> HttpFacts {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    HttpFacts {
        url: url.to_owned(),
        final_url: response.url().to_string(),
        status: response.status().as_u16(),
        content_type: header(CONTENT_TYPE),
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// An error and its causes on one line (reqwest's own message is often
/// just "error sending request"), each said once.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        let later = std::time::SystemTime::now() + Duration::from_secs(3600);
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(3500) && wait <= Duration::from_secs(3600));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }
}
