//! Any bytes, decoded as every persisted record kind: a record or an
//! error, never a panic; a decoded record encodes and decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsarc_model::codec;
use newsarc_model::record::{
    ArticleRecord, AttemptRecord, BlobRecord, Counters, DictionaryRecord, EventRecord, ExportEntry,
    ExportHeader, ExportRecord, ExportTrailer, HeadWitness, ObservationRecord, Record,
    RevisionRecord, StoreInfo, UrlRecord,
};

fn round_trip<R: Record + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(record) = codec::decode::<R>(bytes) {
        let encoded = codec::encode(&record).expect("a decoded record encodes");
        let again: R = codec::decode(&encoded).expect("an encoded record decodes");
        assert_eq!(again, record);
    }
}

fuzz_target!(|bytes: &[u8]| {
    round_trip::<StoreInfo>(bytes);
    round_trip::<HeadWitness>(bytes);
    round_trip::<BlobRecord>(bytes);
    round_trip::<RevisionRecord>(bytes);
    round_trip::<ObservationRecord>(bytes);
    round_trip::<EventRecord>(bytes);
    round_trip::<UrlRecord>(bytes);
    round_trip::<AttemptRecord>(bytes);
    round_trip::<ArticleRecord>(bytes);
    round_trip::<Counters>(bytes);
    round_trip::<ExportHeader>(bytes);
    round_trip::<ExportEntry>(bytes);
    round_trip::<ExportTrailer>(bytes);
    round_trip::<DictionaryRecord>(bytes);
    round_trip::<ExportRecord>(bytes);
});
