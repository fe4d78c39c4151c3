//! Article identity: canonical URLs and the outlet rules that map URLs with
//! changing slugs to an outlet's own article id.

use newsarc_model::ArticleKey;
use regex::Regex;
use serde::Deserialize;
use url::Url;

/// The built-in rules, compiled into the binary.
const BUILTIN_RULES: &str = include_str!("rules.toml");

/// Host prefixes that name the same site as the bare host.
const FOLDED_HOST_PREFIXES: &[&str] = &["www.", "m.", "mobile.", "wap.", "amp."];

/// Query parameters that only track the reader and never select content.
const TRACKING_PARAMETERS: &[&str] = &[
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref_src",
];

/// Why a URL gave no article key, or a rules file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not an absolute http(s) URL.
    #[error("'{url}' is not an absolute http(s) URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A rules file is not valid.
    #[error("rules {origin}: {reason}")]
    InvalidRules {
        /// The file (or "built-in").
        origin: String,
        /// What is wrong, with the rule's name where known.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<RuleText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    name: String,
    hosts: Vec<String>,
    path: String,
    key: String,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    hosts: Vec<String>,
    path: Regex,
    key: String,
}

/// Outlet rules, tried in order; the first match gives the key.
#[derive(Debug, Clone)]
pub struct KeyRules {
    rules: Vec<Rule>,
}

impl KeyRules {
    /// The built-in rules (see `rules.toml`).
    pub fn builtin() -> Self {
        Self::from_toml(BUILTIN_RULES, "built-in").expect("the built-in rules are tested")
    }

    /// Reads rules from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::InvalidRules {
            origin: origin.to_owned(),
            reason,
        };
        let file: RulesFile = toml::from_str(text).map_err(|err| invalid(err.to_string()))?;
        let rules = file
            .rule
            .into_iter()
            .map(|rule| {
                let path = Regex::new(&rule.path).map_err(|err| {
                    invalid(format!("rule '{}': bad path expression: {err}", rule.name))
                })?;
                if rule.hosts.is_empty() {
                    return Err(invalid(format!("rule '{}' names no host", rule.name)));
                }
                Ok(Rule {
                    name: rule.name,
                    hosts: rule
                        .hosts
                        .iter()
                        .map(|h| fold_host(&h.to_lowercase()))
                        .collect(),
                    path,
                    key: rule.key,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// Puts `first`'s rules ahead of these.
    pub fn with_rules_first(mut self, first: KeyRules) -> Self {
        let mut rules = first.rules;
        rules.append(&mut self.rules);
        self.rules = rules;
        self
    }

    /// The names of the rules, in the order they are tried.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.name.as_str())
    }

    /// The article key for `url`: an outlet rule's key when one matches,
    /// otherwise the canonical URL without its scheme.
    pub fn key_for(&self, url: &str) -> Result<ArticleKey, KeyError> {
        let canonical = canonical_url(url)?;
        let host = canonical.host_str().unwrap_or_default();
        // Slugs can hold a raw '?', which puts the id into the query.
        let target = match canonical.query() {
            Some(query) => format!("{}?{query}", canonical.path()),
            None => canonical.path().to_owned(),
        };
        for rule in &self.rules {
            let host_matches = rule
                .hosts
                .iter()
                .any(|h| host == h || host.ends_with(&format!(".{h}")));
            if !host_matches {
                continue;
            }
            if let Some(captures) = rule.path.captures(&target) {
                let mut key = String::new();
                captures.expand(&rule.key, &mut key);
                return article_key(key, url);
            }
        }
        let mut key = format!("{host}{}", canonical.path());
        if let Some(query) = canonical.query() {
            key.push('?');
            key.push_str(query);
        }
        article_key(key, url)
    }
}

fn article_key(key: String, url: &str) -> Result<ArticleKey, KeyError> {
    ArticleKey::new(key).map_err(|err| KeyError::InvalidUrl {
        url: url.to_owned(),
        reason: err.to_string(),
    })
}

/// Folds every leading `www.`/`m.`/mobile prefix, not just the first, so
/// that canonicalising a canonical URL changes nothing (`www.wap.` needed
/// two passes before the fuzzer found it).
fn fold_host(host: &str) -> String {
    let mut host = host.trim_end_matches('.');
    while let Some(rest) = FOLDED_HOST_PREFIXES
        .iter()
        .find_map(|prefix| host.strip_prefix(prefix).filter(|rest| rest.contains('.')))
    {
        host = rest;
    }
    host.to_owned()
}

/// The canonical form of an article URL: lower-case scheme and host,
/// `www.`/`m.`/mobile prefixes folded, no fragment, no tracking parameters
/// (`utm_*`, `fbclid`…), percent-encoding normalised (unreserved characters
/// decoded, hex digits upper case). Raw non-ASCII is accepted and encoded.
pub fn canonical_url(url: &str) -> Result<Url, KeyError> {
    let invalid = |reason: String| KeyError::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let mut parsed = Url::parse(url.trim()).map_err(|err| invalid(err.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!("the scheme is {}", parsed.scheme())));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| invalid("it has no host".into()))?;
    let folded = fold_host(&host.to_lowercase());
    parsed
        .set_host(Some(&folded))
        .map_err(|err| invalid(err.to_string()))?;
    parsed.set_fragment(None);
    // Credentials are never part of an article's address, and must not be
    // kept in the archive.
    parsed
        .set_username("")
        .and_then(|()| parsed.set_password(None))
        .map_err(|()| invalid("its credentials cannot be removed".into()))?;
    let is_tracking = |name: &str| {
        let name = name.to_ascii_lowercase();
        name.starts_with("utm_") || TRACKING_PARAMETERS.contains(&name.as_str())
    };
    // The query is rewritten only when a tracking parameter goes, so that
    // other queries keep their exact spelling.
    if parsed.query_pairs().any(|(name, _)| is_tracking(&name)) {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(name, _)| !is_tracking(name))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
    } else if parsed.query() == Some("") {
        parsed.set_query(None);
    }
    let path = normalise_percent_encoding(parsed.path());
    parsed.set_path(&path);
    Ok(parsed)
}

/// Decodes percent-escapes of unreserved ASCII characters and upper-cases
/// the hex digits of the others, so that equivalent spellings compare equal.
fn normalise_percent_encoding(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = path.get(i + 1..i + 3)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                out.push(value as char);
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
            continue;
        }
        // Multi-byte characters are already percent-encoded by the URL
        // parser, so every byte here is ASCII.
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str) -> String {
        KeyRules::builtin().key_for(url).unwrap().to_string()
    }

    #[test]
    fn canonical_urls_fold_variants_of_one_article() {
        let variants = [
            "https://www.example.com/news/1?utm_source=rss&utm_medium=x#top",
            "http://m.example.com/news/1",
            "HTTPS://EXAMPLE.com/news/1?fbclid=abc",
            "https://example.com/%6Eews/1",
        ];
        for url in variants {
            assert_eq!(key(url), "example.com/news/1", "{url}");
        }
        assert_eq!(key("https://e.org/a?id=3&utm_x=1"), "e.org/a?id=3");
    }

    #[test]
    fn raw_non_ascii_and_lower_case_escapes_meet() {
        assert_eq!(
            key("https://chinadigitaltimes.net/chinese/2020/07/%e3%80%90x/"),
            key("https://chinadigitaltimes.net/chinese/2020/07/【x/"),
        );
    }

    #[test]
    fn dw_keys_ignore_the_title_slug() {
        assert_eq!(
            key("https://www.dw.com/zh/地球上/a-18670177"),
            "dw.com/a-18670177"
        );
        assert_eq!(
            key("https://www.dw.com/zh//a-56157744"),
            "dw.com/a-56157744"
        );
        assert_eq!(
            key("https://www.dw.com/zh/化肥?贝鲁特/a-54470002"),
            "dw.com/a-54470002"
        );
    }

    #[test]
    fn cna_keys_ignore_the_section() {
        assert_eq!(
            key("https://www.cna.com.tw/news/afe/202008030168.aspx"),
            key("https://www.cna.com.tw/news/firstnews/202008030168.aspx"),
        );
        assert_eq!(
            key("https://www.cna.com.tw/news/afe/202008030168.aspx"),
            "cna.com.tw/202008030168"
        );
    }

    #[test]
    fn voachinese_keys_ignore_the_slug() {
        assert_eq!(
            key(
                "https://www.voachinese.com/a/editorial-Pompeo-inalienable-rights-20200728/5521340.html"
            ),
            "voachinese.com/5521340"
        );
    }

    #[test]
    fn zaobao_keys_ignore_the_section() {
        assert_eq!(
            key("https://www.zaobao.com/realtime/china/story20220524-1275851"),
            "zaobao.com/story20220524-1275851"
        );
        assert_eq!(
            key("https://www.zaobao.com.sg/news/world/story20220524-1275851"),
            "zaobao.com/story20220524-1275851"
        );
    }

    #[test]
    fn rfa_keys_ignore_section_and_prefix() {
        assert_eq!(
            key("https://www.rfa.org/mandarin/yataibaodao/jingmao/GF1-11172020033257.html"),
            "rfa.org/11172020033257"
        );
        assert_eq!(
            key("https://www.rfa.org/mandarin/yataibaodao/al-11172020033257.html"),
            "rfa.org/11172020033257"
        );
    }

    #[test]
    fn bbc_zhongwen_keys_ignore_the_section() {
        assert_eq!(
            key("http://www.bbc.com/zhongwen/simp/science-53495522"),
            "bbc.com/zhongwen/53495522"
        );
        assert_eq!(
            key("https://www.bbc.com/zhongwen/trad/world-53495522"),
            "bbc.com/zhongwen/53495522"
        );
        assert_eq!(
            key("http://www.bbc.com/ukchina/simp/54259162"),
            "bbc.com/ukchina/simp/54259162"
        );
    }

    #[test]
    fn user_rules_come_first_and_bad_rules_are_named() {
        let user = KeyRules::from_toml(
            "[[rule]]\nname='x'\nhosts=['example.com']\npath='/p/(\\d+)'\nkey='ex/$1'\n",
            "mine.toml",
        )
        .unwrap();
        let rules = KeyRules::builtin().with_rules_first(user);
        assert_eq!(rules.names().next(), Some("x"));
        assert_eq!(
            rules
                .key_for("https://example.com/p/9/slug")
                .unwrap()
                .as_str(),
            "ex/9"
        );
        let err = KeyRules::from_toml(
            "[[rule]]\nname='y'\nhosts=['a']\npath='('\nkey='k'\n",
            "bad.toml",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("bad.toml") && err.to_string().contains("'y'"),
            "{err}"
        );
    }

    #[test]
    fn non_http_urls_are_refused() {
        assert!(KeyRules::builtin().key_for("ftp://example.com/a").is_err());
        assert!(KeyRules::builtin().key_for("not a url").is_err());
    }
}
