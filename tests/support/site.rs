//! A news site on 127.0.0.1 for fetch tests: each path answers as the test
//! sets it (a page with or without validators, a status, a redirect, a
//! server that never answers), and every request is recorded. The server
//! stops when the test's runtime ends.

// Shared by several test binaries, each using part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

/// How a path answers.
#[derive(Debug, Clone)]
pub enum Route {
    /// 200 with this body and content type, and an `ETag` when given
    /// (answering `304` to a matching `If-None-Match`).
    Page {
        body: Vec<u8>,
        content_type: &'static str,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// This status with an empty body, and `Retry-After` when given.
    Status(u16, Option<u64>),
    /// 200 with a body already encoded as `encoding` (`Content-Encoding`).
    Encoded {
        body: Vec<u8>,
        encoding: &'static str,
    },
    /// 302 to this path.
    Redirect(String),
    /// Never answers.
    Hang,
}

/// One request the site saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
}

#[derive(Default)]
struct Shared {
    routes: HashMap<String, Route>,
    seen: Vec<Seen>,
    in_flight: usize,
    most_in_flight: usize,
}

/// The site.
#[derive(Clone)]
pub struct Site {
    shared: Arc<Mutex<Shared>>,
    base: String,
}

impl Site {
    /// Starts the site on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { shared, base }
    }

    /// The site's URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sets how `path` answers.
    pub fn route(&self, path: &str, route: Route) {
        self.shared
            .lock()
            .unwrap()
            .routes
            .insert(path.to_owned(), route);
    }

    /// `path` serves an HTML article with this title and text.
    pub fn article(&self, path: &str, title: &str, text: &str, etag: Option<&str>) {
        self.route(
            path,
            Route::Page {
                body: article_html(title, text).into_bytes(),
                content_type: "text/html; charset=utf-8",
                etag: etag.map(str::to_owned),
                last_modified: None,
            },
        );
    }

    /// `path` serves an RSS feed linking `urls`.
    pub fn feed(&self, path: &str, urls: &[String]) {
        self.route(
            path,
            Route::Page {
                body: rss(urls),
                content_type: "application/rss+xml",
                etag: None,
                last_modified: None,
            },
        );
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap().seen.clone()
    }

    /// The requests for `path`.
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    /// The most requests ever in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.shared.lock().unwrap().most_in_flight
    }
}

/// A plain news page: a title, an `<article>` of paragraphs.
pub fn article_html(title: &str, text: &str) -> String {
    let paragraphs: String = text.split("\n\n").map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )
}

/// An RSS feed linking `urls`.
pub fn rss(urls: &[String]) -> Vec<u8> {
    let items: String = urls
        .iter()
        .map(|url| format!("<item><title>{url}</title><link>{url}</link></item>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Site</title>\
         <link>http://127.0.0.1/</link><description>d</description>{items}</channel></rss>"
    )
    .into_bytes()
}

async fn answer(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let route = {
        let mut shared = shared.lock().unwrap();
        shared.seen.push(Seen {
            path: path.clone(),
            headers: request.headers().clone(),
        });
        shared.in_flight += 1;
        shared.most_in_flight = shared.most_in_flight.max(shared.in_flight);
        shared.routes.get(&path).cloned()
    };
    // A request stays in flight across a yield, so that overlapping
    // requests would be seen overlapping.
    tokio::task::yield_now().await;
    let response = respond(route, request.headers()).await;
    shared.lock().unwrap().in_flight -= 1;
    response
}

async fn respond(route: Option<Route>, headers: &HeaderMap) -> Response {
    let mut response = Response::new(Body::empty());
    match route {
        None => *response.status_mut() = StatusCode::NOT_FOUND,
        Some(Route::Page {
            body,
            content_type,
            etag,
            last_modified,
        }) => {
            let matches = etag.as_deref().is_some_and(|etag| {
                headers
                    .get(header::IF_NONE_MATCH)
                    .is_some_and(|sent| sent.as_bytes() == etag.as_bytes())
            }) || last_modified.as_deref().is_some_and(|modified| {
                headers
                    .get(header::IF_MODIFIED_SINCE)
                    .is_some_and(|sent| sent.as_bytes() == modified.as_bytes())
            });
            let response_headers = response.headers_mut();
            if let Some(etag) = &etag {
                response_headers.insert(header::ETAG, HeaderValue::from_str(etag).unwrap());
            }
            if let Some(modified) = &last_modified {
                response_headers.insert(
                    header::LAST_MODIFIED,
                    HeaderValue::from_str(modified).unwrap(),
                );
            }
            if matches {
                *response.status_mut() = StatusCode::NOT_MODIFIED;
            } else {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                *response.body_mut() = Body::from(body);
            }
        }
        Some(Route::Status(code, retry_after)) => {
            *response.status_mut() = StatusCode::from_u16(code).unwrap();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
        }
        Some(Route::Encoded { body, encoding }) => {
            let response_headers = response.headers_mut();
            response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            *response.body_mut() = Body::from(body);
        }
        Some(Route::Redirect(to)) => {
            *response.status_mut() = StatusCode::FOUND;
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_str(&to).unwrap());
        }
        Some(Route::Hang) => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
    response
}
