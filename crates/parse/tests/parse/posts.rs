use newsarc_model::TimeSource;
use newsarc_parse::KeyRules;

use crate::parse;

#[test]
fn simplified_chinese_post() {
    let article = parse("good/cjk-simplified.md").unwrap();
    let meta = &article.meta;
    assert_eq!(
        meta.title.as_deref(),
        Some("示例：城市地铁新线路\"试运行\"开始")
    );
    assert_eq!(meta.author.as_deref(), Some("示例日报"));
    assert_eq!(meta.tags, ["示例日报"]);
    assert_eq!(meta.categories, ["news", "示例日报"]);
    assert_eq!(
        meta.url,
        "https://www.news.example.com/zh/metro/line-9-trial-2001.html"
    );
    // The entity is decoded and the NBSP and zero-width space are folded;
    // the ad slot, iframe and script are gone; list items are paragraphs.
    assert_eq!(
        article.paragraphs,
        [
            "地铁九号线今天开始试运行，全长 二十六公里。",
            "试运行期间每天发车一百二十班。",
            "首班车：早上六点",
            "末班车：晚上十一点",
            "九号线列车。（示例图片）",
        ]
    );
    assert_eq!(article.images.len(), 1);
    assert_eq!(
        article.images[0].src,
        "https://img.news.example.com/metro.jpg"
    );
    assert_eq!(article.images[0].alt, "九号线列车");
    // date: and the epoch comment agree, so one time is kept.
    assert_eq!(meta.published.len(), 1);
    assert_eq!(meta.published[0].at.to_string(), "2026-04-01T02:00:00.000Z");
}

#[test]
fn traditional_chinese_post_with_an_outlet_rule() {
    let article = parse("good/cjk-traditional.md").unwrap();
    assert_eq!(
        article.meta.title.as_deref(),
        Some("示範：颱風逼近 氣象局發布海上警報"),
        "the ideographic space folds for comparison"
    );
    assert_eq!(
        article.paragraphs,
        [
            "（示範通訊社記者台北12日電）氣象局今天上午發布海上颱風警報。",
            "預估颱風將於明天清晨最接近台灣東部海面。",
            "交通影響",
            "部分航班已經取消。",
        ]
    );
    let key = KeyRules::builtin().key_for(&article.meta.url).unwrap();
    assert_eq!(key.as_str(), "cna.com.tw/202608120001");
    // date: says 06:30, the epoch comment 06:50: both are kept.
    let sources: Vec<_> = article.meta.published.iter().map(|p| p.source).collect();
    assert_eq!(
        sources,
        [TimeSource::FrontMatterDate, TimeSource::EpochComment]
    );
}

#[test]
fn english_post() {
    let article = parse("good/english.md").unwrap();
    assert_eq!(
        article.meta.title.as_deref(),
        Some("Council approves \"green roofs\" plan: what changes")
    );
    assert_eq!(
        article.paragraphs,
        [
            "Council approves green roofs plan",
            "The council voted 31–4 on Tuesday to require green roofs on new buildings.",
            "Builders have two years to adapt.",
            "Existing buildings are exempt.",
            "\"It is a good day,\" said the mayor.",
        ]
    );
    // Jekyll's date shape with an offset.
    assert_eq!(
        article.meta.published[0].at.to_string(),
        "2026-05-20T08:15:00.000Z"
    );
    let key = KeyRules::builtin().key_for(&article.meta.url).unwrap();
    assert_eq!(key.as_str(), "example.org/local/green-roofs?id=7");
}

#[test]
fn the_normalised_text_ignores_markup_noise() {
    let original = String::from_utf8(crate::fixture("good/english.md")).unwrap();
    let reformatted = original
        .replace("</p><p>", "</p>\n   <p>")
        .replace("<b>", "<b >");
    let a = newsarc_parse::parse_document(original.as_bytes(), &Default::default()).unwrap();
    let b = newsarc_parse::parse_document(reformatted.as_bytes(), &Default::default()).unwrap();
    assert_ne!(original, reformatted);
    assert_eq!(a.text_digest(), b.text_digest());
}

#[test]
fn a_latin1_post_without_a_declaration_is_read_as_windows_1252() {
    let parsed = newsarc_parse::parse(
        &crate::fixture("good/latin1.md"),
        &newsarc_parse::DocumentHint::default(),
    )
    .unwrap();
    assert_eq!(parsed.article.paragraphs, ["café"]);
    assert_eq!(parsed.charset.name, "windows-1252");
    assert_eq!(parsed.charset.from, newsarc_model::CharsetSource::Sniffed);
}
