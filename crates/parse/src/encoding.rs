//! From bytes to text: which encoding a document is in, and its text.
//!
//! The order is the one browsers use (WHATWG HTML "determining the
//! character encoding"), with one archivist's refinement: a byte order mark;
//! the charset the transport declared (HTTP `Content-Type`); a `<meta
//! charset>` or `<meta http-equiv>` in the first 1,024 bytes (found by
//! html5ever's tokenizer, never by pattern matching); valid UTF-8; and last a
//! guess from the bytes by chardetng, Firefox's detector. A declared
//! multi-byte encoding that the bytes do not decode in, where they are valid
//! UTF-8, is taken for the mislabelled UTF-8 it is. Labels and decoders are
//! encoding_rs's.

use std::cell::RefCell;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use newsarc_model::{Charset, CharsetSource};

/// How far the `<meta>` prescan looks, as the HTML standard says.
const PRESCAN_BYTES: usize = 1024;

/// A document's text and how it was decoded.
pub(crate) struct Decoded {
    pub text: String,
    pub charset: Charset,
}

/// The charset parameter of a `Content-Type` header value, if it names an
/// encoding encoding_rs knows.
pub fn charset_of_content_type(content_type: &str) -> Option<&'static str> {
    let mime: mime::Mime = content_type.trim().parse().ok()?;
    let label = mime.get_param(mime::CHARSET)?;
    Encoding::for_label(label.as_str().as_bytes()).map(Encoding::name)
}

/// Decodes `bytes`. `declared` is a label the transport gave (or the
/// archive recorded); `tld` the top-level domain the document came from,
/// which sharpens the guess (`tw` leans to Big5, `cn` to GBK).
pub(crate) fn decode(bytes: &[u8], declared: Option<&str>, tld: Option<&str>) -> Decoded {
    let (encoding, from) = detect(bytes, declared, tld);
    // With the BOM (of the encoding chosen) removed; malformed sequences
    // become U+FFFD, as in a browser.
    let (text, _) = encoding.decode_with_bom_removal(bytes);
    Decoded {
        text: text.into_owned(),
        charset: Charset {
            name: encoding.name().to_owned(),
            from,
        },
    }
}

fn detect(
    bytes: &[u8],
    declared: Option<&str>,
    tld: Option<&str>,
) -> (&'static Encoding, CharsetSource) {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return (encoding, CharsetSource::Bom);
    }
    let valid_utf8 = std::str::from_utf8(bytes).is_ok();
    let labelled = |label: &str| {
        Encoding::for_label(label.trim().as_bytes()).map(|encoding| {
            if valid_utf8 && !decodes_cleanly(encoding, bytes) {
                UTF_8
            } else {
                encoding
            }
        })
    };
    if let Some(encoding) = declared.and_then(labelled) {
        return (encoding, CharsetSource::Http);
    }
    if let Some(encoding) = meta_charset(bytes).and_then(|label| labelled(&label)) {
        // A `<meta>` found by reading the bytes as ASCII cannot really
        // declare UTF-16 (HTML: such a declaration means UTF-8), and
        // x-user-defined means windows-1252.
        let encoding = match encoding.name() {
            "UTF-16LE" | "UTF-16BE" => UTF_8,
            "x-user-defined" => WINDOWS_1252,
            _ => encoding,
        };
        return (encoding, CharsetSource::Meta);
    }
    if valid_utf8 || mostly_utf8(bytes) {
        return (UTF_8, CharsetSource::Utf8);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let tld = tld.filter(|tld| {
        !tld.is_empty()
            && tld
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let guess = detector.guess(tld.map(str::as_bytes), chardetng::Utf8Detection::Deny);
    (guess, CharsetSource::Sniffed)
}

/// True for UTF-8 text with a few damaged sequences (a truncated last
/// character, a byte flipped in transit): far more well-formed multi-byte
/// characters than broken ones. Read as a legacy encoding, all of its
/// characters would come out wrong; read as UTF-8, only the broken ones.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut well_formed, mut broken) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        well_formed += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        broken += usize::from(!chunk.invalid().is_empty());
    }
    well_formed > 0 && well_formed >= 4 * broken
}

/// True when `bytes` decode in `encoding` without a malformed sequence.
fn decodes_cleanly(encoding: &'static Encoding, bytes: &[u8]) -> bool {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .is_some()
}

/// The label of the first `<meta charset>` or `<meta http-equiv=
/// "Content-Type" content="…; charset=…">` in the first 1,024 bytes, read
/// as ASCII-compatible text (every byte a character) by html5ever's
/// tokenizer.
fn meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let (text, _, _) = WINDOWS_1252.decode(head);
    let tokenizer = Tokenizer::new(MetaProbe::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&text));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.found.into_inner()
}

/// Remembers the first charset a `<meta>` start tag declares.
#[derive(Default)]
struct MetaProbe {
    found: RefCell<Option<String>>,
}

impl TokenSink for MetaProbe {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind != TagKind::StartTag || &*tag.name != "meta" || self.found.borrow().is_some() {
            return TokenSinkResult::Continue;
        }
        let attr = |name: &str| {
            tag.attrs
                .iter()
                .find(|attr| &*attr.name.local == name)
                .map(|attr| attr.value.to_string())
        };
        let declared = attr("charset").or_else(|| {
            let is_content_type = attr("http-equiv")
                .is_some_and(|value| value.trim().eq_ignore_ascii_case("content-type"));
            // The content attribute is a MIME type with a charset parameter.
            is_content_type
                .then(|| attr("content"))
                .flatten()
                .and_then(|content| {
                    let mime: mime::Mime = content.trim().parse().ok()?;
                    Some(mime.get_param(mime::CHARSET)?.as_str().to_owned())
                })
        });
        if let Some(label) = declared.filter(|label| !label.trim().is_empty()) {
            *self.found.borrow_mut() = Some(label);
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHINESE: &str = "市政府昨天宣布，市图书馆翻新工程将在下月动工，预计耗时十八个月。\
        工程预算为三亿元，主要用于更换老旧的空调系统和扩建儿童阅览区。\
        图书馆在施工期间将暂停开放，市民可以前往各区分馆借阅图书。";

    fn encoded(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{} cannot hold the text", encoding.name());
        bytes.into_owned()
    }

    #[test]
    fn a_bom_wins_over_everything() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("<p>好</p>".encode_utf16().flat_map(u16::to_le_bytes));
        let decoded = decode(&bytes, Some("gbk"), None);
        assert_eq!(decoded.text, "<p>好</p>");
        assert_eq!(decoded.charset.name, "UTF-16LE");
        assert_eq!(decoded.charset.from, CharsetSource::Bom);
    }

    #[test]
    fn the_transport_then_meta_declare() {
        let gbk = encoded(encoding_rs::GBK, &format!("<p>{CHINESE}</p>"));
        let decoded = decode(&gbk, Some("GB2312"), None);
        assert_eq!(
            (decoded.charset.name.as_str(), decoded.charset.from),
            ("GBK", CharsetSource::Http)
        );
        assert!(decoded.text.contains("图书馆"));

        let page = [b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\"></head><body>".as_slice(),
            &encoded(encoding_rs::BIG5, "圖書館翻新工程")].concat();
        let decoded = decode(&page, None, None);
        assert_eq!(
            (decoded.charset.name.as_str(), decoded.charset.from),
            ("Big5", CharsetSource::Meta)
        );
        assert!(decoded.text.ends_with("圖書館翻新工程"));
    }

    #[test]
    fn undeclared_legacy_text_is_guessed() {
        for encoding in [encoding_rs::GBK, encoding_rs::BIG5] {
            let text = if encoding == encoding_rs::BIG5 {
                "市政府昨天宣布，市圖書館翻新工程將在下月動工，預計耗時十八個月。工程預算為三億元，主要用於更換老舊的空調系統和擴建兒童閱覽區。"
            } else {
                CHINESE
            };
            let decoded = decode(&encoded(encoding, text), None, None);
            assert_eq!(decoded.charset.name, encoding.name());
            assert_eq!(decoded.charset.from, CharsetSource::Sniffed);
            assert_eq!(decoded.text, text);
        }
        let utf8 = decode(CHINESE.as_bytes(), None, None);
        assert_eq!(
            (utf8.charset.name.as_str(), utf8.charset.from),
            ("UTF-8", CharsetSource::Utf8)
        );
    }

    #[test]
    fn utf8_with_a_damaged_character_stays_utf8() {
        let mut bytes = CHINESE.as_bytes().to_vec();
        bytes.truncate(bytes.len() - 1);
        let decoded = decode(&bytes, None, None);
        assert_eq!(decoded.charset.name, "UTF-8");
        assert!(decoded.text.starts_with("市政府昨天宣布"));
        assert!(decoded.text.ends_with('\u{FFFD}'));
    }

    #[test]
    fn mislabelled_utf8_is_read_as_utf8() {
        let decoded = decode(CHINESE.as_bytes(), Some("shift_jis"), None);
        assert_eq!(decoded.charset.name, "UTF-8");
        assert_eq!(decoded.text, CHINESE);
    }

    #[test]
    fn content_types_give_their_charset() {
        assert_eq!(
            charset_of_content_type("text/html; charset=\"gb2312\""),
            Some("GBK")
        );
        assert_eq!(charset_of_content_type("text/html"), None);
        assert_eq!(charset_of_content_type("text/html; charset=klingon"), None);
        // A script's charset attribute is not a declaration.
        let page = b"<script src=x.js charset=\"gbk\"></script><p>ok</p>";
        assert_eq!(meta_charset(page), None);
    }
}
