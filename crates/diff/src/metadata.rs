//! Metadata changes, field by field.

use newsarc_model::{Article, Image};

use crate::MetadataChange;

fn change(field: &'static str, old: Option<String>, new: Option<String>) -> Option<MetadataChange> {
    (old != new).then_some(MetadataChange { field, old, new })
}

fn joined(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join(", "))
}

fn image_label(image: &Image) -> String {
    if image.alt.is_empty() {
        image.src.clone()
    } else {
        format!("{} ({})", image.src, image.alt)
    }
}

/// Every metadata field that differs, then images added, removed or with a
/// changed caption (matched by URL).
pub fn changes(old: &Article, new: &Article) -> Vec<MetadataChange> {
    let (a, b) = (&old.meta, &new.meta);
    let published = |article: &Article| {
        let times: Vec<String> = article
            .meta
            .published
            .iter()
            .map(|p| format!("{} ({})", p.at, p.source.as_str()))
            .collect();
        joined(&times)
    };
    let mut changes: Vec<MetadataChange> = [
        change("title", a.title.clone(), b.title.clone()),
        change("url", Some(a.url.clone()), Some(b.url.clone())),
        change("published", published(old), published(new)),
        change("author", a.author.clone(), b.author.clone()),
        change("tags", joined(&a.tags), joined(&b.tags)),
        change("categories", joined(&a.categories), joined(&b.categories)),
    ]
    .into_iter()
    .flatten()
    .collect();

    for image in &old.images {
        match new.images.iter().find(|n| n.src == image.src) {
            None => changes.push(MetadataChange {
                field: "image",
                old: Some(image_label(image)),
                new: None,
            }),
            Some(kept) if kept.alt != image.alt => changes.push(MetadataChange {
                field: "image",
                old: Some(image_label(image)),
                new: Some(image_label(kept)),
            }),
            Some(_) => {}
        }
    }
    for image in &new.images {
        if !old.images.iter().any(|o| o.src == image.src) {
            changes.push(MetadataChange {
                field: "image",
                old: None,
                new: Some(image_label(image)),
            });
        }
    }
    changes
}
