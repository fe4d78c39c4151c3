use newsarc::history::{ArticlesOptions, LogOptions};
use newsarc::show::{ShowFormat, ShowOptions};
use newsarc::{ArchiveError, NoProgress};
use newsarc_model::Digest;
use serde_json::Value;

use crate::{example_archive, examples, run};

const BRIDGE: &str = "https://example.org/news/2026/02/10/river-bridge-reopens";
const LIBRARY: &str = "news.example.com/zh/city/library-renovation-1001.html";

fn show(
    archive: &newsarc::Archive,
    revision: &str,
    format: ShowFormat,
) -> Result<Vec<u8>, ArchiveError> {
    let mut out = Vec::new();
    archive.show(
        &ShowOptions {
            revision: revision.into(),
            format,
        },
        &mut out,
    )?;
    Ok(out)
}

#[test]
fn log_lists_revisions_oldest_first_with_change_kinds() {
    let archive = example_archive();
    let json = run(|out| {
        archive.log(
            &LogOptions {
                article: BRIDGE.into(),
                json: true,
                stat: false,
            },
            out,
        )
    });
    let entries: Vec<Value> = serde_json::from_str(&json).unwrap();
    let changes: Vec<&str> = entries
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["new", "body", "whitespace"]);
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3]);
    for key in ["seq", "id", "fetched_at", "blob", "size", "title", "change"] {
        assert!(entries[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(entries[1]["fetched_at"], "2026-03-02T12:00:00.000Z");

    let table = run(|out| {
        archive.log(
            &LogOptions {
                article: LIBRARY.into(),
                json: false,
                stat: false,
            },
            out,
        )
    });
    assert!(
        table.contains(" new ") && table.contains(" body ") && table.contains(" metadata "),
        "{table}"
    );
    assert!(table.contains("市图书馆翻新工程将于四月动工"));
}

#[test]
fn log_of_an_unknown_article_names_it() {
    let archive = example_archive();
    let mut out = Vec::new();
    let err = archive
        .log(
            &LogOptions {
                article: "https://nowhere.example/x".into(),
                json: false,
                stat: false,
            },
            &mut out,
        )
        .unwrap_err();
    assert!(err.to_string().contains("https://nowhere.example/x"));
}

#[test]
fn show_raw_gives_back_the_exact_bytes() {
    let archive = example_archive();
    for (n, name) in ["01.md", "02.md", "03.md"].iter().enumerate() {
        let raw = show(&archive, &format!("{LIBRARY}@{}", n + 1), ShowFormat::Raw).unwrap();
        assert_eq!(
            raw,
            std::fs::read(examples().join("library-renovation").join(name)).unwrap()
        );
    }
}

#[test]
fn show_text_hashes_to_the_text_digest() {
    let archive = example_archive();
    let text = show(&archive, &format!("{BRIDGE}@latest"), ShowFormat::Text).unwrap();
    let json: Value = serde_json::from_slice(
        &show(&archive, &format!("{BRIDGE}@latest"), ShowFormat::Json).unwrap(),
    )
    .unwrap();
    assert_eq!(json["text_digest"], Digest::of(&text).to_string());
    assert_eq!(json["seq"], 3);
    assert_eq!(json["text"].as_str().unwrap().as_bytes(), text.as_slice());
    let summary =
        String::from_utf8(show(&archive, &format!("{BRIDGE}@2"), ShowFormat::Summary).unwrap())
            .unwrap();
    assert!(summary.contains("change      body"));
    assert!(summary.contains("on Saturday"));
}

#[test]
fn revisions_are_found_by_id_prefix_and_time() {
    let archive = example_archive();
    let json: Value =
        serde_json::from_slice(&show(&archive, &format!("{BRIDGE}@2"), ShowFormat::Json).unwrap())
            .unwrap();
    let id = json["id"].as_str().unwrap().to_owned();
    let hex = id.trim_start_matches("blake3:");
    for spec in [id.as_str(), hex, &hex[..8], &hex[..20].to_uppercase()] {
        let found: Value =
            serde_json::from_slice(&show(&archive, spec, ShowFormat::Json).unwrap()).unwrap();
        assert_eq!(found["id"], id.as_str(), "{spec}");
    }
    // Memento TimeGate: the revision current at the time asked.
    let at = |time: &str| -> Value {
        serde_json::from_slice(
            &show(&archive, &format!("{BRIDGE}@{time}"), ShowFormat::Json).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(at("2026-03-02T12:00:00Z")["seq"], 2);
    assert_eq!(at("2026-03-02T23:59:59+08:00")["seq"], 2);
    assert_eq!(at("2030-01-01T00:00:00Z")["seq"], 3);
    let early = show(
        &archive,
        &format!("{BRIDGE}@2020-01-01T00:00:00Z"),
        ShowFormat::Json,
    )
    .unwrap_err();
    assert!(
        matches!(early, ArchiveError::NoRevisionAt { .. }),
        "{early}"
    );
}

#[test]
fn malformed_refs_are_refused_with_the_reason() {
    let archive = example_archive();
    let short = show(&archive, "abc123", ShowFormat::Raw).unwrap_err();
    assert!(
        short.to_string().contains("at least 8 hex digits"),
        "{short}"
    );
    let nothing = show(&archive, "0000000000", ShowFormat::Raw).unwrap_err();
    assert!(matches!(nothing, ArchiveError::RevisionNotFound { .. }));
    let bad_selector = show(&archive, &format!("{BRIDGE}@yesterday"), ShowFormat::Raw).unwrap_err();
    assert!(bad_selector.to_string().contains("yesterday"));
    let beyond = show(&archive, &format!("{BRIDGE}@9"), ShowFormat::Raw).unwrap_err();
    assert!(matches!(
        beyond,
        ArchiveError::NoSuchSeq {
            seq: 9,
            revisions: 3,
            ..
        }
    ));
}

#[test]
fn articles_lists_every_article_and_filters_by_time() {
    let archive = example_archive();
    let all: Vec<Value> = serde_json::from_str(&run(|out| {
        archive.articles(
            &ArticlesOptions {
                since: None,
                json: true,
            },
            out,
        )
    }))
    .unwrap();
    assert_eq!(all.len(), 2);
    for key in [
        "key",
        "url",
        "revisions",
        "first_seen",
        "last_seen",
        "title",
    ] {
        assert!(all[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        all[0]["url"],
        "https://example.org/news/2026/02/10/river-bridge-reopens"
    );
    let since = ArticlesOptions {
        since: Some("2026-03-04T00:00:00Z".parse().unwrap()),
        json: true,
    };
    let none: Vec<Value> = serde_json::from_str(&run(|out| archive.articles(&since, out))).unwrap();
    assert!(none.is_empty());
}

#[test]
fn stats_and_verify_on_a_clean_archive() {
    let archive = example_archive();
    let stats: Value = serde_json::from_str(&run(|out| archive.write_stats(true, out))).unwrap();
    assert_eq!(stats["articles"], 2);
    assert_eq!(stats["revisions"], 6);
    assert_eq!(stats["observations"], 0);
    assert!(stats["raw_bytes"].as_u64().unwrap() > 5_000);
    assert!(stats.get("stored_bytes").is_some());

    let mut out = Vec::new();
    let options = newsarc::report::VerifyOptions {
        deep: true,
        json: true,
    };
    let report = archive
        .verify(&options, &Default::default(), &mut out, &mut NoProgress)
        .unwrap();
    assert!(report.ok());
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["ok"], true);
    assert!(json["objects"].as_u64().unwrap() > 0 && json["bytes"].as_u64().unwrap() > 0);
    assert_eq!(json["findings"], Value::Array(vec![]));
}

mod diff {
    use newsarc::diff::{DiffFormat, DiffOptions};
    use newsarc::history::LogOptions;
    use serde_json::Value;

    use super::{BRIDGE, LIBRARY};
    use crate::{example_archive, run};

    fn diff(archive: &newsarc::Archive, options: DiffOptions) -> String {
        run(|out| archive.diff(&options, out))
    }

    #[test]
    fn the_last_two_revisions_by_default_as_json() {
        let archive = example_archive();
        let json: Value = serde_json::from_str(&diff(
            &archive,
            DiffOptions {
                from: LIBRARY.into(),
                format: DiffFormat::Json,
                ..Default::default()
            },
        ))
        .unwrap();
        // 03 only moved the date: metadata, no body ops.
        assert_eq!(json["change"], "metadata");
        assert_eq!(json["ops"], Value::Array(vec![]));
        assert_eq!(json["metadata"][0]["field"], "published");
        for key in ["from", "to", "stats"] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
    }

    #[test]
    fn two_refs_give_the_body_changes_in_every_format() {
        let archive = example_archive();
        let options = |format| DiffOptions {
            from: format!("{LIBRARY}@1"),
            to: Some(format!("{LIBRARY}@2")),
            format,
            ..Default::default()
        };
        let json: Value = serde_json::from_str(&diff(&archive, options(DiffFormat::Json))).unwrap();
        assert_eq!(json["stats"]["sentences_added"], 1);
        assert_eq!(json["stats"]["sentences_edited"], 2);
        let kinds: Vec<&str> = json["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| op["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"replace") && kinds.contains(&"insert"),
            "{kinds:?}"
        );

        let term = diff(&archive, options(DiffFormat::Term));
        assert!(
            term.contains("工程将[-在下-]{+于四+}月动工，预计耗时[-十八-]{+二十+}个月。"),
            "{term}"
        );
        let unified = diff(&archive, options(DiffFormat::Unified));
        assert!(
            unified.contains("+市图书馆馆长表示，翻新后的图书馆将增设自助借还书机。"),
            "{unified}"
        );
        let html = diff(&archive, options(DiffFormat::Html));
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<ins>"));
    }

    #[test]
    fn raw_mode_shows_markup_changes_the_text_diff_hides() {
        let archive = example_archive();
        let options = |raw| DiffOptions {
            from: format!("{BRIDGE}@2"),
            to: Some(format!("{BRIDGE}@3")),
            format: DiffFormat::Json,
            raw,
            ..Default::default()
        };
        let text: Value = serde_json::from_str(&diff(&archive, options(false))).unwrap();
        assert_eq!(text["change"], "whitespace");
        assert_eq!(text["ops"], Value::Array(vec![]));
        let raw: Value = serde_json::from_str(&diff(&archive, options(true))).unwrap();
        assert!(
            raw["ops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|op| op["kind"] != "equal")
        );
    }

    #[test]
    fn an_article_with_one_revision_has_nothing_to_compare() {
        let archive = newsarc::Archive::in_memory().unwrap();
        crate::ingest(
            &archive,
            vec![crate::examples().join("river-bridge/01.md")],
            "2026-03-01T00:00:00Z",
            false,
        );
        let mut out = Vec::new();
        let err = archive
            .diff(
                &DiffOptions {
                    from: BRIDGE.into(),
                    ..Default::default()
                },
                &mut out,
            )
            .unwrap_err();
        assert!(err.to_string().contains("nothing before it"), "{err}");
    }

    #[test]
    fn log_stat_gives_each_revision_its_statistics() {
        let archive = example_archive();
        let json: Vec<Value> = serde_json::from_str(&run(|out| {
            archive.log(
                &LogOptions {
                    article: BRIDGE.into(),
                    json: true,
                    stat: true,
                },
                out,
            )
        }))
        .unwrap();
        assert_eq!(json[0]["stats"]["sentences_added"], 0);
        assert_eq!(json[1]["stats"]["sentences_added"], 1);
        assert_eq!(json[1]["stats"]["sentences_edited"], 2);
        assert_eq!(json[2]["stats"]["chars_added"], 0);
        let table = run(|out| {
            archive.log(
                &LogOptions {
                    article: BRIDGE.into(),
                    json: false,
                    stat: true,
                },
                out,
            )
        });
        assert!(table.contains("+1 -0 ~2 >0"), "{table}");
    }
}
