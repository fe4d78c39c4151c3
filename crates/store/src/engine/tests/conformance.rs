//! What every engine must do, run on each.

use super::Backend;
use crate::engine::WriteBatch;

fn missing_keys_read_as_none(backend: &Backend) {
    assert_eq!(backend.engine().get(b"nothing").unwrap(), None);
}

fn batches_apply_in_order_and_later_ops_win(backend: &Backend) {
    let engine = backend.engine();
    let mut batch = WriteBatch::default();
    batch.put(b"a".to_vec(), b"1".to_vec());
    batch.put(b"b".to_vec(), b"2".to_vec());
    batch.put(b"a".to_vec(), b"3".to_vec());
    batch.remove(b"b".to_vec());
    engine.apply(batch).unwrap();
    assert_eq!(engine.get(b"a").unwrap(), Some(b"3".to_vec()));
    assert_eq!(engine.get(b"b").unwrap(), None);
    engine.apply(WriteBatch::default()).unwrap();
}

fn prefix_scans_are_ordered_and_bounded(backend: &Backend) {
    let engine = backend.engine();
    let mut batch = WriteBatch::default();
    for key in ["b2", "a", "b1", "b", "c", "b\u{ff}"] {
        batch.put(key.as_bytes().to_vec(), key.as_bytes().to_vec());
    }
    engine.apply(batch).unwrap();
    let keys: Vec<Vec<u8>> = engine
        .scan_prefix(b"b")
        .map(|entry| entry.unwrap().0)
        .collect();
    let expected: Vec<Vec<u8>> = ["b", "b1", "b2", "b\u{ff}"]
        .iter()
        .map(|k| k.as_bytes().to_vec())
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(engine.scan_prefix(b"").count(), 6);
    assert_eq!(engine.scan_prefix(b"z").count(), 0);
}

fn scans_from_a_key_stay_inside_the_prefix(backend: &Backend) {
    let engine = backend.engine();
    let mut batch = WriteBatch::default();
    for key in ["a9", "b1", "b2", "b3", "c0"] {
        batch.put(key.as_bytes().to_vec(), Vec::new());
    }
    engine.apply(batch).unwrap();
    let keys = |prefix: &[u8], start: &[u8]| -> Vec<Vec<u8>> {
        engine
            .scan_from(prefix, start)
            .map(|e| e.unwrap().0)
            .collect()
    };
    assert_eq!(keys(b"b", b"b2"), [b"b2".to_vec(), b"b3".to_vec()]);
    assert_eq!(
        keys(b"b", b"a"),
        [b"b1".to_vec(), b"b2".to_vec(), b"b3".to_vec()]
    );
    assert!(keys(b"b", b"b4").is_empty());
}

fn flushed_data_survives_reopening(backend: &Backend) {
    {
        let engine = backend.engine();
        let mut batch = WriteBatch::default();
        batch.put(b"kept".to_vec(), vec![7; 10_000]);
        engine.apply(batch).unwrap();
        engine.flush().unwrap();
    }
    assert_eq!(
        backend.engine().get(b"kept").unwrap(),
        Some(vec![7; 10_000])
    );
}

on_every_backend!(
    missing_keys_read_as_none,
    batches_apply_in_order_and_later_ops_win,
    prefix_scans_are_ordered_and_bounded,
    scans_from_a_key_stay_inside_the_prefix,
    flushed_data_survives_reopening,
);
