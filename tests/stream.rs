//! `--stream`: a data file read a block at a time trains to the very bits of the same file
//! held in memory (same blocks), for any thread count; a stopped streamed run resumes from
//! its checkpoint, streamed or in memory, to the same bits; what it does not cover is
//! refused; a bad line of a streamed file is named by its line number in the file.

mod common;

use emc::error::Error;
use emc::model::Model;
use emc::params::to_json;
use emc::pipeline::{compile_blocks, compile_stream, front_end, Compiled};
use emc::stream::InMemory;
use emc::train::{Config, Init, Outcome};

/// Lines per block in these tests: a zoo file spans many blocks (and blocks end inside the
/// parts the source hands over, and the other way round).
const BLOCK: usize = 37;

fn zoo(name: &str) -> (String, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/{name}.em")).expect("model");
    let file = common::data_file(name, &src);
    let data = std::fs::read_to_string(format!("{root}/models/{file}")).expect("data");
    (src, data)
}

fn model(src: &str) -> Model {
    front_end(src, &[]).expect("model checks")
}

fn in_memory(src: &str, data: &str, threads: usize) -> Compiled {
    compile_blocks(model(src), data, None, threads, BLOCK).expect("compiles")
}

fn streamed(src: &str, data: &str, threads: usize) -> Result<Compiled, Error> {
    // Parts of 10 lines: blocks of 37 lines start and end inside them.
    let source = Box::new(InMemory::new(data.as_bytes().to_vec(), 10));
    compile_stream(model(src), source, None, threads, BLOCK)
}

fn train(c: &Compiled, config: &Config) -> Result<Outcome, Error> {
    c.train(config, &mut |_| {})
}

fn config(c: &Compiled, iterations: usize) -> Config {
    let mut config = common::config(&c.program, iterations, 0.0);
    config.restarts = 1;
    config
}

/// Trains the file in memory and streamed, with 1 and 2 threads, and compares every bit of
/// the parameters (as params.json writes them) and the trace.
fn same_bits(name: &str, init: impl Fn(&Compiled) -> Init) {
    let (src, data) = zoo(name);
    let lines = data.lines().count();
    assert!(
        lines > 3 * BLOCK,
        "{name}: {lines} lines span several blocks"
    );
    let memory = in_memory(&src, &data, 2);
    let mut c = config(&memory, 6);
    c.init = init(&memory);
    let want = train(&memory, &c).expect("trains in memory");
    let json = |o: &Outcome, k: &Compiled| {
        to_json(
            &k.program.model,
            &k.program.domains,
            &k.program.layout,
            &o.params,
        )
    };
    for threads in [1, 2] {
        let s = streamed(&src, &data, threads).expect("compiles streamed");
        assert_eq!(s.instances(), lines, "{name}: lines counted");
        let mut sc = c.clone();
        sc.threads = threads;
        let got = train(&s, &sc).expect("trains streamed");
        let bits =
            |o: &Outcome| -> Vec<u64> { o.params.theta.iter().map(|x| x.to_bits()).collect() };
        assert_eq!(
            bits(&got),
            bits(&want),
            "{name}, {threads} thread(s): parameters"
        );
        assert_eq!(json(&got, &s), json(&want, &memory), "{name}: params.json");
        let trace =
            |o: &Outcome| -> Vec<u64> { o.trace.iter().map(|t| t.objective.to_bits()).collect() };
        assert_eq!(
            trace(&got),
            trace(&want),
            "{name}, {threads} thread(s): trace"
        );
    }
}

#[test]
fn a_streamed_hmm_trains_to_the_bits_of_the_hmm_in_memory() {
    same_bits("hmm", |c| c.train_config_init());
}

/// 49 states: the batches run in single precision (on a processor with AVX2 and FMA), which
/// the blocks must match bit for bit too.
#[test]
fn a_streamed_tagger_in_single_precision_trains_to_the_bits_in_memory() {
    let (src, data) = zoo("pos_hmm");
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        assert!(in_memory(&src, &data, 1).kernel.single());
        let streamed = streamed(&src, &data, 1).expect("compiles streamed");
        assert!(streamed.kernel.single());
    }
    same_bits("pos_hmm", |c| c.train_config_init());
}

#[test]
fn a_streamed_mixture_trains_to_the_bits_of_the_mixture_in_memory() {
    same_bits("latent_class", |c| c.train_config_init());
}

#[test]
fn a_streamed_gaussian_mixture_started_from_given_values_trains_to_the_same_bits() {
    same_bits("gmm_2d", |c| {
        // Values seeded from the data in memory, then given to both runs.
        let mut cfg = config(c, 1);
        cfg.init = c.train_config_init();
        Init::Given(train(c, &cfg).expect("seeds and trains").params)
    });
}

/// The init the model's own settings give.
trait DefaultInit {
    fn train_config_init(&self) -> Init;
}

impl DefaultInit for Compiled {
    fn train_config_init(&self) -> Init {
        Config::from_model(&self.program).init
    }
}

#[test]
fn what_stream_does_not_cover_is_refused() {
    let refused = |r: Result<Outcome, Error>, what: &str| match r {
        Err(Error::Stream(e)) => assert!(e.to_string().contains(what), "{e}"),
        other => panic!("{what}: {:?}", other.map(|o| o.trace.len())),
    };
    // Gaussian seeding reads lines spread over the data.
    let (src, data) = zoo("gmm_2d");
    let s = streamed(&src, &data, 1).unwrap();
    refused(train(&s, &config(&s, 2)), "Gaussian");
    // Hard EM and decoding need the lines at hand.
    let (src, data) = zoo("hmm");
    let s = streamed(&src, &data, 1).unwrap();
    let mut c = config(&s, 2);
    c.algorithm = emc::model::Algorithm::Hard;
    refused(train(&s, &c), "hard");
    let mut c = config(&s, 2);
    c.decode = true;
    refused(train(&s, &c), "decode");
    // Plans the chain kernel does not run: a tree (PCFG), alignments of any length (IBM
    // Model 1).
    for name in ["pcfg", "ibm1_null"] {
        let (src, data) = zoo(name);
        match streamed(&src, &data, 1) {
            Err(Error::Stream(e)) => assert!(e.to_string().contains("--stream"), "{name}: {e}"),
            other => panic!("{name}: {:?}", other.map(|c| c.instances())),
        }
    }
}

#[test]
fn a_bad_line_of_a_streamed_file_is_named_by_its_line_in_the_file() {
    let (src, data) = zoo("gmm_2d");
    let lines: Vec<String> = data.lines().map(str::to_string).collect();
    // Past the first block and the first part: a value that is no number, a line of the
    // wrong width.
    for (at, bad) in [(123usize, "3.6 x"), (200, "3.6 79 1")] {
        let mut l = lines.clone();
        l[at - 1] = bad.to_string();
        let text = l.join("\n") + "\n";
        let err = match streamed(&src, &text, 2) {
            Err(Error::Data(es)) => es[0].to_string(),
            other => panic!("{bad}: {:?}", other.map(|c| c.instances())),
        };
        assert!(err.contains(&format!("line {at}")), "{bad}: {err}");
        // The same words as in memory.
        let whole = match compile_blocks(model(&src), &text, None, 1, BLOCK) {
            Err(Error::Data(es)) => es[0].to_string(),
            _ => panic!("refused in memory"),
        };
        assert_eq!(err, whole);
    }
    // An empty file.
    assert!(matches!(streamed(&src, "", 1), Err(Error::Data(_))));
}

#[test]
fn the_cli_streams_to_the_bytes_of_the_run_in_memory() {
    let dir = common::scratch("stream", "cli");
    let out = |name: &str| dir.join(name).display().to_string();
    for (name, extra) in [("memory", None), ("streamed", Some("--stream"))] {
        let o = out(name);
        let mut args = vec![
            "run",
            "models/hmm.em",
            "models/hmm.txt",
            "--iterations",
            "3",
            "--tolerance",
            "0",
            "--quiet",
            "--out",
            &o,
        ];
        args.extend(extra);
        let r = common::emc(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let read = |d: &str, f: &str| std::fs::read_to_string(dir.join(d).join(f)).expect("output");
    assert_eq!(
        read("memory", "params.json"),
        read("streamed", "params.json")
    );
    // The trace but its seconds.
    let trace = |d: &str| -> Vec<String> {
        (read(d, "trace.tsv").lines())
            .map(|l| l.rsplit_once('\t').map_or(l, |(a, _)| a).to_string())
            .collect()
    };
    assert_eq!(trace("memory"), trace("streamed"));
    let r = common::emc(&[
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--stream",
        "--decode",
        "--out",
        &out("d"),
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("--stream does not cover"), "{err}");
    // A blank line deep in the file, named as the file numbers it.
    let (_, data) = zoo("hmm");
    let mut lines: Vec<&str> = data.lines().collect();
    lines[299] = "";
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("scratch file");
    let bad = bad.display().to_string();
    let r = common::emc(&[
        "run",
        "models/hmm.em",
        &bad,
        "--stream",
        "--out",
        &out("bad"),
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("line 300 is blank"), "{err}");
}

#[test]
fn a_fingerprint_taken_a_part_at_a_time_is_the_checkpoint_fingerprint() {
    use emc::checkpoint::{inputs_fingerprint, Fingerprint};
    let (src, data) = zoo("hmm");
    let set = [("K".to_string(), "3".to_string())];
    let mut f = Fingerprint::new();
    f.text(src.as_bytes());
    let (a, b) = data.split_at(data.len() / 3);
    f.part(a.as_bytes());
    f.part(b.as_bytes());
    f.end_text();
    f.text(b"K=3");
    assert_eq!(f.value(), inputs_fingerprint(&src, &data, &set));
}

/// A streamed run stopped after an iteration (as Ctrl-C stops it) resumes from its
/// checkpoint's text, streamed or in memory, to the bits of a run never stopped.
#[test]
fn a_stopped_streamed_run_resumes_streamed_or_in_memory_to_the_same_bits() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let (src, data) = zoo("hmm");
    let memory = in_memory(&src, &data, 2);
    let base = config(&memory, 6);
    let full = train(&memory, &base).expect("trains in memory");
    let stream = streamed(&src, &data, 2).expect("compiles streamed");
    let stop = Arc::new(AtomicBool::new(false));
    let mut stopping = base.clone();
    stopping.stop = Some(stop.clone());
    let stopped = stream
        .train(&stopping, &mut |e| {
            if matches!(e, emc::train::Event::Iteration { point, .. } if point.iteration == 2) {
                stop.store(true, Ordering::SeqCst);
            }
        })
        .expect("trains streamed");
    assert!(stopped.interrupted, "stopped after iteration 2");
    let checkpoint = stopped.resume.clone().expect("a checkpoint to resume from");
    let text = emc::checkpoint::to_text(&base, 7, &checkpoint);
    let bits = |o: &Outcome| -> Vec<u64> { o.params.theta.iter().map(|x| x.to_bits()).collect() };
    let trace =
        |o: &Outcome| -> Vec<u64> { o.trace.iter().map(|t| t.log_likelihood.to_bits()).collect() };
    for (what, compiled) in [("streamed", &stream), ("in memory", &memory)] {
        let mut resumed = base.clone();
        emc::checkpoint::resume(&text, 7, &compiled.program, &mut resumed).expect("resumes");
        let done = train(compiled, &resumed).expect("trains after resuming");
        assert_eq!(bits(&done), bits(&full), "resumed {what}: parameters");
        assert_eq!(trace(&done), trace(&full), "resumed {what}: trace");
    }
}
