use super::*;

fn unit(seed: u64) -> UnitCounts {
    UnitCounts {
        dense: vec![0.0, 1.5, -0.0, seed as f64][..(seed % 5) as usize].to_vec(),
        values: vec![(seed, 0.5 + seed as f64), (seed + 3, -1e-300)],
        extra: vec![(1, 2.0)],
        log_likelihood: -(seed as f64) - 0.25,
        instances: seed + 7,
        lines: vec![seed, seed + 1],
    }
}

fn file(shard: u64, shards: u64, total_units: u64) -> ShardFile {
    let units = shard_units(total_units, shard, shards);
    ShardFile {
        header: Header {
            kernel: "chain".into(),
            model: 11,
            data: 12,
            params: 13,
            shard,
            shards,
            units: units.clone(),
            total_units,
            coordinates: 100,
            parameters: 10,
            lines: None,
        },
        units: units.map(unit).collect(),
    }
}

#[test]
fn shards_cover_every_unit_once_in_order() {
    for total in [0, 1, 2, 7, 64, 1000] {
        for shards in [1, 2, 3, 4, 7, 100] {
            let mut next = 0;
            for s in 0..shards {
                let r = shard_units(total, s, shards);
                assert_eq!(r.start, next, "{total} units, shard {s} of {shards}");
                next = r.end;
            }
            assert_eq!(next, total);
        }
    }
}

#[test]
fn files_round_trip() {
    let f = file(1, 3, 7);
    assert_eq!(decode("f", &encode(&f)), Ok(f));
}

#[test]
fn every_cut_is_truncated_and_every_flip_refused() {
    let bytes = encode(&file(1, 3, 7));
    for n in 0..bytes.len() {
        let got = decode("f", &bytes[..n]);
        let expected_kind = match &got {
            Err(AccumError::NotAccumulator { .. }) => n < MAGIC.len(),
            Err(AccumError::Truncated { file, .. }) => file == "f",
            _ => false,
        };
        assert!(expected_kind, "cut at {n}: {got:?}");
    }
    for at in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x10;
        assert!(
            decode("f", &flipped).is_err(),
            "a flip at byte {at} is refused"
        );
    }
}

#[test]
fn a_length_past_the_file_allocates_nothing() {
    let mut bytes = encode(&file(0, 1, 1));
    // The first unit's list of values: its length after the log-likelihood and instances.
    let header_end = bytes.len() - 8 - encode_unit_len(&unit(0));
    let at = header_end + 16;
    bytes[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        decode("f", &bytes),
        Err(AccumError::Truncated { .. })
    ));
}

#[test]
fn a_run_past_the_coordinates_is_refused() {
    let mut f = file(0, 1, 1);
    f.units[0].dense = vec![1.0; 101];
    assert!(matches!(
        decode("f", &encode(&f)),
        Err(AccumError::Damaged { why, .. }) if why.contains("101 counts in a run, past 100")
    ));
}

fn encode_unit_len(u: &UnitCounts) -> usize {
    8 + 8
        + 8
        + 8 * u.dense.len()
        + 8
        + 16 * u.values.len()
        + 8
        + 16 * u.extra.len()
        + 8
        + 8 * u.lines.len()
}

#[test]
fn assembling_checks_the_set() {
    let expected = file(0, 1, 7).header;
    let set = |fs: &[(u64, u64)]| -> Vec<(String, ShardFile)> {
        fs.iter()
            .map(|(s, n)| (format!("c{s}of{n}"), file(*s, *n, 7)))
            .collect()
    };
    let all = assemble(set(&[(2, 3), (0, 3), (1, 3)]), &expected).expect("complete");
    assert_eq!(all, (0..7).map(unit).collect::<Vec<_>>());
    assert!(matches!(
        assemble(set(&[(0, 3), (2, 3)]), &expected),
        Err(AccumError::Missing { missing, shards: 3 }) if missing == "1"
    ));
    assert!(matches!(
        assemble(set(&[(0, 3), (1, 3), (1, 3), (2, 3)]), &expected),
        Err(AccumError::Duplicate { shard: 1, .. })
    ));
    assert!(matches!(
        assemble(set(&[(0, 3), (1, 2)]), &expected),
        Err(AccumError::OtherSplit {
            shards: 2,
            first_shards: 3,
            ..
        })
    ));
    assert_eq!(assemble(Vec::new(), &expected), Err(AccumError::Empty));
    let mut other = set(&[(0, 1)]);
    other[0].1.header.params = 99;
    assert!(matches!(
        assemble(other, &expected),
        Err(AccumError::OtherInputs { what, .. }) if what.starts_with("parameter file")
    ));
    let mut many = set(&[(0, 1)]);
    many[0].1.header.shards = 1 << 40;
    let got = assemble(many, &expected);
    assert!(matches!(got, Err(AccumError::Damaged { .. })), "{got:?}");
}
