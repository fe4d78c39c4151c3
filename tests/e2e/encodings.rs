//! Pages in the encodings Chinese-, Japanese- and Korean-language readers
//! meet, made by the test from UTF-8 text: ingested from files and fetched
//! over HTTP, with the charset declared (in `<meta>` or the HTTP header) and
//! without; the exact bytes come back from `show --raw`, the text decoded
//! from `show --text`, and a one-character edit shows in `diff`.

use encoding_rs::{BIG5, EUC_KR, Encoding, GBK, SHIFT_JIS};
use serde_json::Value;

use crate::site::{Route, Site};
use crate::{newsarc, stderr, stdout};

/// One encoding and a text it can hold, with a one-character edit.
struct Case {
    name: &'static str,
    encode: fn(&str) -> Vec<u8>,
    label: &'static str,
    text: &'static str,
    edited: &'static str,
}

fn legacy(encoding: &'static Encoding) -> impl Fn(&str) -> Vec<u8> {
    move |text| {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "{} cannot hold the text", encoding.name());
        bytes.into_owned()
    }
}

fn utf16le(text: &str) -> Vec<u8> {
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

fn utf16be(text: &str) -> Vec<u8> {
    [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect()
}

const SIMPLIFIED: &str = "市政府昨天宣布，市图书馆翻新工程将在下月动工，预计耗时十八个月。工程预算为三亿元，主要用于更换老旧的空调系统和扩建儿童阅览区。图书馆在施工期间将暂停开放，市民可以前往各区分馆借阅图书。";
const TRADITIONAL: &str = "市政府昨天宣布，市圖書館翻新工程將在下月動工，預計耗時十八個月。工程預算為三億元，主要用於更換老舊的空調系統和擴建兒童閱覽區。圖書館在施工期間將暫停開放，市民可以前往各區分館借閱圖書。";
const JAPANESE: &str = "市は昨日、市立図書館の改修工事を来月始めると発表した。工期は十八か月の見込みで、予算は三億円、主に古い空調設備の交換と児童閲覧室の拡張に充てられる。工事中は休館となり、市民は各地区の分館で本を借りることができる。";
const KOREAN: &str = "시는 어제 시립 도서관 리모델링 공사를 다음 달 시작한다고 발표했다. 공사 기간은 십팔 개월로 예상되며 예산은 삼억 원으로 주로 낡은 냉방 시설 교체와 어린이 열람실 확장에 쓰인다. 공사 기간에는 휴관하며 시민들은 각 지역 분관에서 책을 빌릴 수 있다.";

fn cases() -> Vec<Case> {
    fn gbk(text: &str) -> Vec<u8> {
        legacy(GBK)(text)
    }
    fn big5(text: &str) -> Vec<u8> {
        legacy(BIG5)(text)
    }
    fn sjis(text: &str) -> Vec<u8> {
        legacy(SHIFT_JIS)(text)
    }
    fn euc_kr(text: &str) -> Vec<u8> {
        legacy(EUC_KR)(text)
    }
    vec![
        Case {
            name: "gbk",
            encode: gbk,
            label: "GBK",
            text: SIMPLIFIED,
            edited: "十八",
        },
        Case {
            name: "big5",
            encode: big5,
            label: "Big5",
            text: TRADITIONAL,
            edited: "十八",
        },
        Case {
            name: "shift_jis",
            encode: sjis,
            label: "Shift_JIS",
            text: JAPANESE,
            edited: "十八",
        },
        Case {
            name: "euc-kr",
            encode: euc_kr,
            label: "EUC-KR",
            text: KOREAN,
            edited: "십팔",
        },
        Case {
            name: "utf-16le",
            encode: utf16le,
            label: "UTF-16LE",
            text: SIMPLIFIED,
            edited: "十八",
        },
        Case {
            name: "utf-16be",
            encode: utf16be,
            label: "UTF-16BE",
            text: TRADITIONAL,
            edited: "十八",
        },
    ]
}

/// The page as text: with `<meta charset>` when `declare` is set.
fn page(case: &Case, url: &str, declare: bool, text: &str) -> String {
    let meta = if declare && !case.name.starts_with("utf-16") {
        format!("<meta charset=\"{}\">", case.name)
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html><html><head>{meta}<title>Library</title><link rel=\"canonical\" href=\"{url}\"></head>\
         <body><article><p>{text}</p></article></body></html>"
    )
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}{}", stdout(output), stderr(output)))
}

/// Checks what the archive holds for `url`: two revisions in `case`'s
/// encoding, the second with one character changed.
fn check_archived(store: &std::path::Path, case: &Case, url: &str, revisions: [&[u8]; 2]) {
    let what = format!("{} at {url}", case.name);
    for (seq, bytes) in revisions.iter().enumerate() {
        let raw = newsarc(store, &["show", "--raw", &format!("{url}@{}", seq + 1)]);
        assert_eq!(raw.status.code(), Some(0), "{what}: {}", stderr(&raw));
        assert!(raw.stdout == *bytes, "{what}: show --raw changed the bytes");
    }
    let text = stdout(&newsarc(store, &["show", "--text", &format!("{url}@1")]));
    assert_eq!(text, format!("{}\n", case.text), "{what}");
    let shown = json(&newsarc(store, &["show", "--json", url]));
    assert_eq!(shown["charset"], case.label, "{what}");
    let log = json(&newsarc(store, &["log", "--json", url]));
    assert_eq!(log[1]["charset"], case.label, "{what}");
    assert_eq!(log[1]["change"], "body", "{what}");
    let diff = stdout(&newsarc(store, &["diff", url]));
    // One character changed, and it shows decoded: alone in Chinese and
    // Japanese, in its word in Korean (which separates words by spaces).
    assert!(diff.contains("chars: +1 -1"), "{what}: {diff}");
    assert!(
        diff.contains("[-八-]{+九+}") || diff.contains("[-십팔-]{+십구+}"),
        "{what}: {diff}"
    );
}

fn edit(case: &Case) -> String {
    let replacement = if case.edited == "십팔" {
        "십구"
    } else {
        "十九"
    };
    case.text.replacen(case.edited, replacement, 1)
}

#[test]
fn pages_in_every_encoding_ingest_with_and_without_a_declared_charset() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    for case in cases() {
        for declare in [true, false] {
            let url = format!("https://example.org/enc/{}/{declare}", case.name);
            let first = (case.encode)(&page(&case, &url, declare, case.text));
            let second = (case.encode)(&page(&case, &url, declare, &edit(&case)));
            for (time, bytes) in [
                ("2026-03-01T00:00:00Z", &first),
                ("2026-03-02T00:00:00Z", &second),
            ] {
                let file = dir.path().join(format!("{}-{declare}.html", case.name));
                std::fs::write(&file, bytes).unwrap();
                let output = newsarc(
                    &store,
                    &["ingest", "--fetched-at", time, file.to_str().unwrap()],
                );
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{}: {}",
                    case.name,
                    stdout(&output)
                );
            }
            check_archived(&store, &case, &url, [&first, &second]);
        }
    }
}

#[test]
fn pages_in_every_encoding_fetch_with_and_without_a_declared_charset() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let site = runtime.block_on(Site::start());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    for case in cases() {
        // Declared in the HTTP header only, or nowhere.
        for (declare, content_type) in [
            (true, content_type_with_charset(case.name)),
            (false, "text/html"),
        ] {
            let path = format!("/enc/{}/{declare}", case.name);
            let url = site.url(&path);
            let mut revisions = Vec::new();
            for text in [case.text.to_owned(), edit(&case)] {
                let bytes = (case.encode)(&page(&case, &url, false, &text));
                site.route(
                    &path,
                    Route::Page {
                        body: bytes.clone(),
                        content_type,
                        etag: None,
                        last_modified: None,
                    },
                );
                let output = newsarc(&store, &["fetch", "--json", &url]);
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{}: {}",
                    case.name,
                    stdout(&output)
                );
                revisions.push(bytes);
            }
            check_archived(&store, &case, &url, [&revisions[0], &revisions[1]]);
        }
    }
}

fn content_type_with_charset(name: &str) -> &'static str {
    match name {
        "gbk" => "text/html; charset=gbk",
        "big5" => "text/html; charset=big5",
        "shift_jis" => "text/html; charset=shift_jis",
        "euc-kr" => "text/html; charset=euc-kr",
        "utf-16le" => "text/html; charset=utf-16le",
        _ => "text/html; charset=utf-16be",
    }
}
