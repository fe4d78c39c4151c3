//! A seeded, deterministic generator of news-like revision histories, for
//! the scale run and the micro benchmarks. Nothing here comes from the
//! public corpus; only its shape does:
//!
//! - page sizes are log-normal around the corpus's median of 6.1 KB
//!   (σ = 0.69 fits its p10 of 2.6 KB and p90 of 14.9 KB);
//! - revisions per article are 1–8 with NewsEdits' mean of about 3.6;
//! - half the articles are Chinese, half English;
//! - each later revision makes one edit of the kinds trackers see: a
//!   sentence edited, added or removed, the title changed, an image URL
//!   swapped, or only the date changed.
//!
//! Revisions come out in fetch order: articles are opened in blocks, and a
//! block's articles are refetched in rounds, so one article's revisions are
//! spread among other articles' as a crawler would see them.

#![allow(dead_code)] // each bench uses part of it

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use rand_pcg::Pcg64;

/// Weights of 1..=8 revisions per article (mean 3.67).
const REVISION_WEIGHTS: [u32; 8] = [20, 18, 15, 13, 11, 9, 7, 7];

const ENGLISH: &[&str] = &[
    "the",
    "city",
    "council",
    "said",
    "on",
    "monday",
    "that",
    "new",
    "bridge",
    "would",
    "open",
    "after",
    "years",
    "of",
    "delays",
    "officials",
    "expect",
    "traffic",
    "to",
    "ease",
    "in",
    "downtown",
    "area",
    "residents",
    "have",
    "long",
    "complained",
    "about",
    "noise",
    "and",
    "dust",
    "from",
    "construction",
    "site",
    "mayor",
    "told",
    "reporters",
    "budget",
    "rose",
    "by",
    "million",
    "dollars",
    "since",
    "last",
    "year",
    "when",
    "plan",
    "was",
    "first",
    "announced",
    "police",
    "report",
    "fire",
    "broke",
    "out",
    "late",
    "night",
    "no",
    "one",
    "injured",
    "school",
    "parents",
    "teachers",
    "minister",
    "government",
    "election",
    "vote",
    "court",
    "ruled",
    "against",
    "company",
    "workers",
    "strike",
    "weather",
    "storm",
    "flood",
    "river",
    "water",
    "level",
    "market",
    "prices",
    "rise",
    "fell",
    "percent",
    "economy",
    "growth",
    "bank",
    "rate",
    "health",
    "hospital",
    "doctors",
    "patients",
    "study",
    "found",
    "researchers",
    "university",
    "students",
    "protest",
    "square",
    "thousands",
    "gathered",
    "peaceful",
    "statement",
    "spokesperson",
    "confirmed",
    "earlier",
    "week",
    "agreement",
    "talks",
    "between",
    "two",
    "sides",
    "ended",
    "without",
    "deal",
    "will",
    "continue",
    "next",
    "month",
    "according",
    "sources",
    "familiar",
    "with",
    "matter",
    "added",
    "local",
];

/// Common Chinese characters, for sentences without spaces.
const CHINESE: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质";

const SECTIONS: &[&str] = &["world", "china", "city", "business", "sport", "culture"];

/// One article's current state.
struct Article {
    number: u64,
    chinese: bool,
    revisions_left: u32,
    title: String,
    date: (u32, u32, u32, u32),
    paragraphs: Vec<Vec<String>>,
    images: Vec<u64>,
}

/// One generated revision: what a fetcher would have got.
pub struct SynthRevision {
    /// When it was fetched (ms since the epoch).
    pub fetched_at: i64,
    /// The article's URL.
    pub url: String,
    /// The page.
    pub bytes: Vec<u8>,
    /// Its position in the article's history, from 1.
    pub seq: u32,
}

impl SynthRevision {
    /// Parses and stores this revision in a commit of its own, as one
    /// fetch is stored.
    pub fn ingest(&self, archive: &newsarc::Archive) -> newsarc::ingest::Stored {
        let document = self.document();
        archive
            .ingest_document(
                document.bytes,
                document.source,
                document.fetched_at,
                &newsarc_parse::DocumentHint::default(),
                None,
            )
            .expect("the store takes it")
            .expect("every synthetic page parses")
    }

    /// This revision as a document to ingest.
    pub fn document(&self) -> newsarc::ingest::Document<'_> {
        newsarc::ingest::Document {
            bytes: &self.bytes,
            source: &self.url,
            fetched_at: newsarc_model::Millis::from_millis(self.fetched_at),
        }
    }
}

/// The generator: an endless iterator of revisions in fetch order.
pub struct Synth {
    rng: Pcg64,
    sizes: LogNormal<f64>,
    block_size: usize,
    block: Vec<Article>,
    round: usize,
    position: usize,
    next_article: u64,
    clock: i64,
}

impl Synth {
    /// A generator seeded with `seed`; the same seed gives the same bytes.
    pub fn new(seed: u64) -> Self {
        Self::with_block(seed, 1000)
    }

    /// Like [`Synth::new`] with `block_size` articles refetched together.
    pub fn with_block(seed: u64, block_size: usize) -> Self {
        Self {
            rng: Pcg64::seed_from_u64(seed),
            sizes: LogNormal::new(6100f64.ln(), 0.69).expect("valid log-normal"),
            block_size,
            block: Vec::new(),
            round: 0,
            position: 0,
            next_article: 0,
            // 2024-01-01T00:00:00Z
            clock: 1_704_067_200_000,
        }
    }

    fn new_article(&mut self) -> Article {
        let number = self.next_article;
        self.next_article += 1;
        let chinese = self.rng.random_bool(0.5);
        let target = (self.sizes.sample(&mut self.rng) as usize).clamp(800, 64 * 1024);
        let revisions = weighted(&mut self.rng, &REVISION_WEIGHTS) as u32 + 1;
        let mut article = Article {
            number,
            chinese,
            revisions_left: revisions,
            title: String::new(),
            date: (
                2024,
                self.rng.random_range(1..=12),
                self.rng.random_range(1..=28),
                self.rng.random_range(0..24),
            ),
            paragraphs: Vec::new(),
            images: vec![self.rng.random_range(0..1_000_000)],
        };
        article.title = sentence(&mut self.rng, chinese, 6..14)
            .trim_end_matches(['.', '。'])
            .to_owned();
        // Paragraphs of 1–4 sentences until the page reaches its size.
        while render(&article).len() < target {
            let count = self.rng.random_range(1..=4);
            let paragraph = (0..count)
                .map(|_| sentence(&mut self.rng, chinese, sentence_len(chinese)))
                .collect();
            article.paragraphs.push(paragraph);
        }
        article
    }

    /// One edit of the kinds trackers see.
    fn edit(&mut self, article: &mut Article) {
        let chinese = article.chinese;
        let paragraph = self.rng.random_range(0..article.paragraphs.len());
        let sentences = article.paragraphs[paragraph].len();
        match weighted(&mut self.rng, &[35, 20, 10, 10, 10, 15]) {
            0 => {
                let at = self.rng.random_range(0..sentences);
                let edited =
                    edit_sentence(&mut self.rng, &article.paragraphs[paragraph][at], chinese);
                article.paragraphs[paragraph][at] = edited;
            }
            1 => {
                let at = self.rng.random_range(0..=sentences);
                let added = sentence(&mut self.rng, chinese, sentence_len(chinese));
                article.paragraphs[paragraph].insert(at, added);
            }
            2 if sentences > 1 => {
                let at = self.rng.random_range(0..sentences);
                article.paragraphs[paragraph].remove(at);
            }
            3 => {
                article.title = edit_sentence(&mut self.rng, &article.title, chinese);
            }
            4 => {
                let at = self.rng.random_range(0..article.images.len());
                article.images[at] = self.rng.random_range(0..1_000_000);
            }
            _ => {
                // Date only: the page says it was updated.
                article.date.3 = (article.date.3 + 1) % 24;
            }
        }
    }
}

impl Iterator for Synth {
    type Item = SynthRevision;

    fn next(&mut self) -> Option<SynthRevision> {
        loop {
            if self.block.is_empty() {
                let mut block = Vec::with_capacity(self.block_size);
                for _ in 0..self.block_size {
                    block.push(self.new_article());
                }
                self.block = block;
                self.round = 0;
                self.position = 0;
            }
            if self.position == self.block.len() {
                self.position = 0;
                self.round += 1;
                if self.round == REVISION_WEIGHTS.len() {
                    self.block.clear();
                    continue;
                }
            }
            let index = self.position;
            self.position += 1;
            if self.block[index].revisions_left == 0 {
                continue;
            }
            let mut article = std::mem::replace(
                &mut self.block[index],
                Article {
                    number: 0,
                    chinese: false,
                    revisions_left: 0,
                    title: String::new(),
                    date: (0, 0, 0, 0),
                    paragraphs: Vec::new(),
                    images: Vec::new(),
                },
            );
            if self.round > 0 {
                self.edit(&mut article);
            }
            article.revisions_left -= 1;
            self.clock += 1_000;
            let revision = SynthRevision {
                fetched_at: self.clock,
                url: url(&article),
                bytes: render(&article).into_bytes(),
                seq: self.round as u32 + 1,
            };
            self.block[index] = article;
            return Some(revision);
        }
    }
}

fn weighted(rng: &mut Pcg64, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut pick = rng.random_range(0..total);
    for (index, weight) in weights.iter().enumerate() {
        if pick < *weight {
            return index;
        }
        pick -= weight;
    }
    weights.len() - 1
}

fn sentence_len(chinese: bool) -> std::ops::Range<usize> {
    if chinese { 12..40 } else { 8..24 }
}

fn sentence(rng: &mut Pcg64, chinese: bool, length: std::ops::Range<usize>) -> String {
    let count = rng.random_range(length);
    if chinese {
        let characters: Vec<char> = CHINESE.chars().collect();
        let mut text: String = (0..count)
            .map(|i| {
                if i > 6 && i % 9 == 0 {
                    '，'
                } else {
                    characters[rng.random_range(0..characters.len())]
                }
            })
            .collect();
        text.push('。');
        text
    } else {
        let words: Vec<&str> = (0..count)
            .map(|_| ENGLISH[rng.random_range(0..ENGLISH.len())])
            .collect();
        let mut text = words.join(" ");
        if let Some(first) = text.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        text.push('.');
        text
    }
}

/// Replaces one to three words (or characters) of `text`.
fn edit_sentence(rng: &mut Pcg64, text: &str, chinese: bool) -> String {
    if chinese {
        let mut characters: Vec<char> = text.chars().collect();
        let pool: Vec<char> = CHINESE.chars().collect();
        for _ in 0..rng.random_range(1..=3) {
            let at = rng.random_range(0..characters.len().saturating_sub(1).max(1));
            characters[at] = pool[rng.random_range(0..pool.len())];
        }
        characters.into_iter().collect()
    } else {
        let mut words: Vec<String> = text.split(' ').map(str::to_owned).collect();
        for _ in 0..rng.random_range(1..=3) {
            let at = rng.random_range(0..words.len());
            words[at] = ENGLISH[rng.random_range(0..ENGLISH.len())].to_owned();
        }
        words.join(" ")
    }
}

fn url(article: &Article) -> String {
    let section = SECTIONS[(article.number % SECTIONS.len() as u64) as usize];
    let language = if article.chinese { "zh" } else { "en" };
    format!(
        "https://news.synthetic.example/{language}/{section}/{}.html",
        article.number
    )
}

fn render(article: &Article) -> String {
    let (year, month, day, hour) = article.date;
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n\
         <link rel=\"canonical\" href=\"{}\">\n\
         <meta property=\"article:published_time\" content=\"{year:04}-{month:02}-{day:02}T{hour:02}:00:00Z\">\n\
         </head><body><article><h1>{}</h1>\n",
        if article.chinese { "zh" } else { "en" },
        article.title,
        url(article),
        article.title,
    );
    for (index, paragraph) in article.paragraphs.iter().enumerate() {
        if index == 1 {
            for image in &article.images {
                page.push_str(&format!(
                    "<figure><img src=\"https://img.synthetic.example/{image}.jpg\"></figure>\n"
                ));
            }
        }
        page.push_str("<p>");
        page.push_str(&paragraph.join(if article.chinese { "" } else { " " }));
        page.push_str("</p>\n");
    }
    page.push_str("</article></body></html>\n");
    page
}
