//! The news-mirror post format: YAML front matter, an `<!--epoch-ms-->`
//! comment, a `[title](url)` header and a `------` rule, then the article as
//! HTML.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use newsarc_model::{Article, ArticleMeta, Millis, PublishedTime, TimeSource};
use scraper::Html;
use serde_norway::Value;

use crate::{DocumentHint, ParseError, html};

/// True when the text opens with a `---` line.
pub(crate) fn starts_with_front_matter(text: &str) -> bool {
    text.lines()
        .next()
        .is_some_and(|line| line.trim_end() == "---")
}

/// Reads a published time in the shapes mirrors write: RFC 3339, Jekyll's
/// `2020-07-22 10:00:00 +0800`, a naive date-time (taken as UTC), or a date.
pub(crate) fn parse_time(value: &str) -> Option<Millis> {
    let value = value.trim();
    if let Ok(time) = value.parse::<Millis>() {
        return Some(time);
    }
    if let Ok(time) = chrono::DateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S %z") {
        return Some(Millis::from(time.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(value, format) {
            return Some(Millis::from(Utc.from_utc_datetime(&time)));
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| Millis::from(Utc.from_utc_datetime(&time)))
}

fn text_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// `[ a, b ]`, `- a` lists, or a single scalar.
fn list_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Sequence(items)) => items.iter().filter_map(text_of).collect(),
        Some(other) => text_of(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The `[title](url)` header line, split at its last `](`.
fn header_link(line: &str) -> Option<(String, String)> {
    let inner = line.trim().strip_prefix('[')?.strip_suffix(')')?;
    let split = inner.rfind("](")?;
    Some((inner[..split].to_owned(), inner[split + 2..].to_owned()))
}

/// The inside of a one-line `<!--…-->` comment.
fn comment(line: &str) -> Option<&str> {
    Some(
        line.trim()
            .strip_prefix("<!--")?
            .strip_suffix("-->")?
            .trim(),
    )
}

/// The YAML deserializer refuses nesting beyond 128 levels, but only after
/// the scanner has read the whole front matter, and its time grows with
/// brackets × depth (200,000 `[` took two minutes). Refusing deeper flow
/// nesting first keeps a hostile front matter cheap.
const MAX_FLOW_DEPTH: usize = 128;

/// The line (1-based within `yaml`) where `[`/`{` nesting outside quotes
/// and comments first goes beyond `limit`.
fn flow_nesting_beyond(yaml: &str, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (number, line) in yaml.lines().enumerate() {
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(open), c) if c == open => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if previous.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > limit {
                        return Some(number + 1);
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                (None, _) => {}
            }
            previous = c;
        }
    }
    None
}

pub(crate) fn parse_post(text: &str, hint: &DocumentHint) -> Result<Article, ParseError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let close = lines
        .iter()
        .skip(1)
        .position(|line| matches!(line.trim_end(), "---" | "..."))
        .map(|i| i + 1)
        .ok_or(ParseError::UnterminatedFrontMatter)?;
    let yaml: String = lines[1..close].concat();
    if let Some(line) = flow_nesting_beyond(&yaml, MAX_FLOW_DEPTH) {
        return Err(ParseError::FrontMatter {
            line: line + 1,
            reason: format!("brackets nested more than {MAX_FLOW_DEPTH} deep"),
        });
    }
    let front: Value = serde_norway::from_str(&yaml).map_err(|err| ParseError::FrontMatter {
        line: err.location().map_or(1, |at| at.line() + 1),
        reason: err.to_string(),
    })?;
    let front = match front {
        Value::Mapping(map) => map,
        Value::Null => Default::default(),
        _ => {
            return Err(ParseError::FrontMatter {
                line: 2,
                reason: "expected 'key: value' lines".into(),
            });
        }
    };
    let field = |name: &str| front.get(name);

    let mut published = Vec::new();
    if let Some(at) = field("date")
        .and_then(text_of)
        .as_deref()
        .and_then(parse_time)
    {
        published.push(PublishedTime {
            source: TimeSource::FrontMatterDate,
            at,
        });
    }

    let mut header: Option<(String, String)> = None;
    let mut body_start = lines.len();
    for (i, line) in lines.iter().enumerate().skip(close + 1) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(inside) = comment(trimmed) {
            // The epoch slot; a comment that is not a time in range is
            // skipped, not taken for the start of the article.
            if let Some(at) = inside
                .parse()
                .ok()
                .and_then(|ms| Millis::checked_from_millis(ms).ok())
            {
                published.push(PublishedTime {
                    source: TimeSource::EpochComment,
                    at,
                });
            }
        } else if header.is_none()
            && let Some(link) = header_link(trimmed)
        {
            header = Some(link);
        } else if trimmed.len() >= 3 && trimmed.chars().all(|c| c == '-') {
            body_start = i + 1;
            break;
        } else {
            body_start = i;
            break;
        }
    }
    // Keep both times only when they disagree.
    published.dedup_by(|b, a| a.at == b.at);

    if let Some(from @ (Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_))) = field("from")
    {
        let found = match from {
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
            _ => "a tagged value",
        };
        return Err(ParseError::FrontMatter {
            line: lines[..close]
                .iter()
                .position(|line| line.starts_with("from:"))
                .map_or(2, |at| at + 1),
            reason: format!("'from' must be one URL, found {found}"),
        });
    }
    let url = field("from")
        .and_then(text_of)
        .or_else(|| header.as_ref().map(|(_, url)| url.trim().to_owned()))
        .filter(|url| !url.is_empty())
        .or_else(|| hint.url.clone())
        .ok_or(ParseError::NoUrl)?;
    let title = field("title")
        .and_then(text_of)
        .or_else(|| header.map(|(title, _)| title))
        .map(|title| html::normalise_text(&title));

    let body_html: String = lines.get(body_start..).unwrap_or_default().concat();
    html::check_nesting(&body_html, body_start as u64 + 1)?;
    let fragment = Html::parse_fragment(&body_html);
    let body = html::collect_body(fragment.root_element());
    Ok(Article {
        meta: ArticleMeta {
            title,
            url,
            published,
            author: field("author").and_then(text_of),
            tags: list_of(field("tags")),
            categories: list_of(field("categories")),
        },
        paragraphs: body.paragraphs,
        images: body.images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_mirror_shapes() {
        let expected = Some(Millis::from_millis(1_595_383_200_000));
        assert_eq!(parse_time("2020-07-22T02:00:00.000Z"), expected);
        assert_eq!(parse_time("2020-07-22 10:00:00 +0800"), expected);
        assert_eq!(parse_time("2020-07-22 02:00:00"), expected);
        assert_eq!(parse_time("someday"), None);
    }

    #[test]
    fn header_links_split_at_the_last_bracket() {
        assert_eq!(
            header_link("[a [b] c](https://x/y)"),
            Some(("a [b] c".into(), "https://x/y".into()))
        );
        assert_eq!(header_link("plain"), None);
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_the_yaml_scanner_sees_it() {
        let deep = format!(
            "title: x\nx: {}{}\n",
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        assert_eq!(flow_nesting_beyond(&deep, MAX_FLOW_DEPTH), Some(2));
        let quoted = format!(
            "title: \"{}\"\nnote: '{}' # {}\nlist: [[a, b], {{c: [d]}}]\n",
            "[".repeat(500),
            "{".repeat(500),
            "[".repeat(500)
        );
        assert_eq!(flow_nesting_beyond(&quoted, MAX_FLOW_DEPTH), None);
    }
}
