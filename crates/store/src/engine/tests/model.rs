//! A model test: random writes, scans and reopen steps on each engine,
//! checked against a `BTreeMap`.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::Backend;
use crate::engine::WriteBatch;

#[derive(Debug, Clone)]
enum Op {
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    Get(Vec<u8>),
    Scan(Vec<u8>),
    Last(Vec<u8>, Vec<u8>),
    Reopen,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![b'a', b'b', b'c', 0u8, 0xff]),
        0..4,
    )
}

fn op() -> impl Strategy<Value = Op> {
    let write = (
        key(),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
    );
    prop_oneof![
        4 => prop::collection::vec(write, 0..6).prop_map(Op::Batch),
        2 => key().prop_map(Op::Get),
        2 => key().prop_map(Op::Scan),
        2 => (key(), key()).prop_map(|(prefix, rest)| {
            let upto = [prefix.as_slice(), &rest].concat();
            Op::Last(prefix, upto)
        }),
        1 => Just(Op::Reopen),
    ]
}

fn run(backend: &Backend, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut engine = backend.engine();
    for op in ops {
        match op {
            Op::Batch(writes) => {
                let mut batch = WriteBatch::default();
                for (key, value) in writes {
                    match value {
                        Some(value) => {
                            model.insert(key.clone(), value.clone());
                            batch.put(key, value);
                        }
                        None => {
                            model.remove(&key);
                            batch.remove(key);
                        }
                    }
                }
                engine.apply(batch).unwrap();
            }
            Op::Get(key) => prop_assert_eq!(engine.get(&key).unwrap(), model.get(&key).cloned()),
            Op::Scan(prefix) => {
                let scanned: Vec<_> = engine.scan_prefix(&prefix).map(|e| e.unwrap()).collect();
                let expected: Vec<_> = model
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                prop_assert_eq!(scanned, expected);
            }
            Op::Last(prefix, upto) => {
                let expected = if upto < prefix {
                    None
                } else {
                    model
                        .range(prefix.clone()..=upto.clone())
                        .next_back()
                        .filter(|(k, _)| k.starts_with(&prefix))
                        .map(|(k, v)| (k.clone(), v.clone()))
                };
                prop_assert_eq!(engine.last_at_or_before(&prefix, &upto).unwrap(), expected);
            }
            Op::Reopen => {
                engine.flush().unwrap();
                drop(engine);
                engine = backend.engine();
            }
        }
    }
    let everything: Vec<_> = engine.scan_prefix(b"").map(|e| e.unwrap()).collect();
    prop_assert_eq!(everything, model.into_iter().collect::<Vec<_>>());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sled_behaves_like_a_btreemap(ops in prop::collection::vec(op(), 1..40)) {
        run(&Backend::sled(), ops)?;
    }

    #[test]
    fn memory_behaves_like_a_btreemap(ops in prop::collection::vec(op(), 1..40)) {
        run(&Backend::memory(), ops)?;
    }

    /// Each reopen compacts: what was written before it is read from the
    /// sorted run, under what was written (or removed) after.
    #[test]
    fn a_run_under_a_live_layer_behaves_like_a_btreemap(ops in prop::collection::vec(op(), 1..40)) {
        run(&Backend::layered(), ops)?;
    }
}
