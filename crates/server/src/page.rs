//! Opaque page tokens (AIP-158): the position to resume from, bound to the
//! request's filter so that a token is refused for another query.

use crate::status::RequestError;

const VERSION: &str = "p1";

/// Makes a token for resuming at `position` under `filter`.
pub fn token(filter: &str, position: &str) -> String {
    let text = format!("{VERSION}\n{}\n{position}", fingerprint(filter));
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Reads a token made by [`token`] for the same `filter`; an empty token
/// means the first page.
pub fn position(filter: &str, token: &str) -> Result<Option<String>, RequestError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || RequestError::invalid("page_token", "not a token this server issued");
    let bytes: Vec<u8> = (0..token.len() / 2)
        .map(|i| u8::from_str_radix(token.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(print), Some(position)) if print == fingerprint(filter) => {
            Ok(Some(position.to_owned()))
        }
        (Some(VERSION), Some(_), Some(_)) => Err(RequestError::invalid(
            "page_token",
            "the token belongs to a query with other filters",
        )),
        _ => Err(invalid()),
    }
}

fn fingerprint(filter: &str) -> String {
    newsarc_model::Digest::of(filter.as_bytes()).to_hex()[..16].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_resume_only_their_own_query() {
        let t = token("article=a", "42");
        assert_eq!(position("article=a", &t).unwrap().as_deref(), Some("42"));
        assert!(position("article=b", &t).is_err());
        assert!(position("article=a", "zz").is_err());
        assert_eq!(position("article=a", "").unwrap(), None);
    }
}
